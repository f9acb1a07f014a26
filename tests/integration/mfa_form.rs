//! Two-step sign-in on the sign-in form, with JavaScript (server
//! functions) and without (plain form posts and a second step page).

use crate::helpers::*;
use crate::mfa::*;

/// The code page's form posted without JavaScript, from `page`, with the
/// pending sign-in's cookie `token`.
async fn code_form(app: &TestApp, form: &[(&str, &str)], page: &str, token: &str) -> reqwest::Response {
    app.plain_form("/_fn/second-step", form)
        .header("origin", &app.base)
        .header("referer", app.url(page))
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_sign_in_asks_for_the_code_with_and_without_javascript() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;

    // Without JavaScript: the password leads to the code page, with only
    // the pending sign-in's cookie.
    let res = app.form_login("alice", PASSWORD, "/sessions").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/login/code?next=%2Fsessions");
    assert!(access_cookie(res.headers()).is_none() && refresh_cookie(res.headers()).is_none());
    let step = cookie_line(res.headers(), STEP_COOKIE).expect("the pending sign-in's cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Max-Age=300"] {
        assert!(step.contains(flag), "{step}");
    }
    let token = cookie_value(res.headers(), STEP_COOKIE).expect("the pending sign-in's token");
    let page = app.page_with("/login/code?next=%2Fsessions", &[(STEP_COOKIE, &token)]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Enter your code") && html.contains(r#"autocomplete="one-time-code""#));

    let code = secret.code_at(app.clock_now());
    let form = [("code", code.as_str()), ("next", "/sessions")];
    let res = code_form(&app, &form, "/login/code?next=%2Fsessions", &token).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), "/sessions");
    let access = access_cookie(res.headers()).expect("signed in");
    assert!(refresh_cookie(res.headers()).is_some());
    assert!(cookie_line(res.headers(), STEP_COOKIE).unwrap().contains("Max-Age=0"), "the step's cookie is cleared");
    assert_eq!(app.page("/sessions", Some(&access)).await.status(), 200);

    // Hydrated: the same, as a server-function call.
    let res = app.fn_call("/_fn/login", &[("username", "alice"), ("password", PASSWORD)], None).await;
    assert!(access_cookie(res.headers()).is_none());
    let token = cookie_value(res.headers(), STEP_COOKIE).expect("the pending sign-in's token");
    let wrong = app
        .client
        .post(app.url("/_fn/second-step"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .form(&[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    app.clock.advance(30);
    let code = secret.code_at(app.clock_now());
    let res = app
        .client
        .post(app.url("/_fn/second-step"))
        .header("accept", "application/json")
        .header("origin", &app.base)
        .header("cookie", format!("{STEP_COOKIE}={token}"))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
    assert!(access_cookie(res.headers()).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_code_on_the_form_goes_back_to_the_password() {
    let app = spawn_app().await;
    let (_, secret, _) = with_totp(&app, "alice").await;
    let res = app.form_login("alice", PASSWORD, "/dashboard").await;
    let token = cookie_value(res.headers(), STEP_COOKIE).expect("the pending sign-in's token");
    app.clock.advance(301);
    let code = secret.code_at(app.clock_now());
    let res = code_form(&app, &[("code", code.as_str()), ("next", "/dashboard")], "/login/code", &token).await;
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with("/login?next=%2Fdashboard"), "{}", location(&res));
    assert!(access_cookie(res.headers()).is_none());
    let page = app.follow(&res, None).await;
    assert!(page.text().await.unwrap().contains("took too long"));
}
