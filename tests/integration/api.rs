//! The JSON API, as the seeds' curl commands use it, and every way to
//! attack it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse::auth::keys::{KeyRing, SigningKey};
use gatehouse::auth::token::{self, Grant, TokenPolicy};
use gatehouse::domain::{AuthMethod, Role};
use serde_json::{Value, json};

use crate::helpers::*;

async fn assert_unauthorized(res: reqwest::Response, msg: &str) {
    assert_eq!(res.status(), 401);
    let challenge = res.headers().get("www-authenticate").expect("401 carries WWW-Authenticate").to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": msg }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_flow_register_login_protected_works() {
    let app = spawn_app().await;
    let res = app.register("alice", "correct horse battery").await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "username": "alice" }));

    let res = app.login("alice", "correct horse battery").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);

    let res = app.protected_with_bearer(token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "logged_in_as": "alice" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_carries_the_documented_claims() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    let claims: Value = serde_json::from_slice(&B64.decode(t.split('.').nth(1).unwrap()).unwrap()).unwrap();
    for name in ["sub", "iat", "nbf", "exp", "jti", "iss", "aud", "typ", "role", "sid", "auth_time", "amr"] {
        assert!(claims.get(name).is_some(), "claim {name} missing in {claims}");
    }
    assert_eq!(claims["typ"], "access");
    assert_eq!(claims["role"], "user");
    assert_eq!(claims["iat"], START);
    assert_eq!(claims["exp"], START + 900);
    let header: Value = serde_json::from_slice(&B64.decode(t.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], app.state.keys.ring(app.clock_now()).active().kid());
}

/// RFC 8176 `amr`: how the person signed in, in the token, kept across a
/// refresh and a password confirmation, and shown in the sessions list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_sessions_say_how_the_person_signed_in() {
    let app = spawn_app().await;
    let claims =
        |t: &str| -> Value { serde_json::from_slice(&B64.decode(t.split('.').nth(1).unwrap()).unwrap()).unwrap() };
    let (access, refresh) = app.signed_in_pair("alice").await;
    assert_eq!(claims(&access)["amr"], json!(["pwd"]));
    assert_eq!(app.count_text("SELECT amr FROM sessions").await, "pwd", "the sign-in stored it");
    // From here on what the tokens and the list say can only come from the
    // session's row: a row that names no method known here.
    sqlx::query("UPDATE sessions SET amr = 'hwk-from-a-newer-version'").execute(app.state.db.pool()).await.unwrap();
    let res = app.refresh(&refresh).await;
    assert_eq!(res.status(), 200, "an unknown name does not break the session");
    let renewed: Value = res.json().await.unwrap();
    let renewed = renewed["access_token"].as_str().unwrap().to_owned();
    assert!(claims(&renewed).get("amr").is_none(), "a refresh takes the methods from the session");
    let res =
        app.call(reqwest::Method::POST, "/api/reauth", &renewed, &json!({ "password": "correct horse battery" })).await;
    let fresh: Value = res.json().await.unwrap();
    assert!(claims(fresh["access_token"].as_str().unwrap()).get("amr").is_none(), "so does a confirmation");
    let list: Value =
        app.call(reqwest::Method::GET, "/api/sessions", &renewed, &Value::Null).await.json().await.unwrap();
    assert_eq!(list["sessions"][0]["methods"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", "correct horse battery").await.status(), 201, "the account exists");
    let wrong = app.login("alice", "wrong password!").await;
    let unknown = app.login("nobody", "wrong password!").await;
    let invalid_name = app.login("<script>", "wrong password!").await;
    for res in [wrong, unknown, invalid_name] {
        assert_unauthorized(res, "Bad username or password").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_case_insensitive_on_the_username_only() {
    let app = spawn_app().await;
    app.register("Alice", "correct horse battery").await;
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 200);
    assert_eq!(app.login("ALICE", "correct horse battery").await.status(), 200);
    assert_eq!(app.login("alice", "Correct horse battery").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_refuses_bad_input_with_a_message_naming_the_problem() {
    let app = spawn_app().await;
    let cases = [
        (json!({ "password": "correct horse battery" }), "Missing username"),
        (json!({ "username": null, "password": "correct horse battery" }), "Missing username"),
        (json!({ "username": "alice" }), "Missing password"),
        (json!({ "username": 42, "password": "correct horse battery" }), "username must be a string"),
        (json!({ "username": "alice", "password": ["x"] }), "password must be a string"),
        (json!({ "username": "", "password": "correct horse battery" }), "Enter a username."),
        (json!({ "username": "al", "password": "correct horse battery" }), "Usernames are at least 3 characters long."),
        (
            json!({ "username": "al ice", "password": "correct horse battery" }),
            "Usernames may contain only letters, digits, '.', '_' and '-'.",
        ),
        (json!({ "username": "alice", "password": "" }), "Enter a password."),
        (json!({ "username": "alice", "password": "short" }), "Passwords are at least 8 characters long."),
        (json!({ "username": "alice", "password": "x".repeat(1025) }), "Passwords are at most 1024 bytes long."),
    ];
    for (body, msg) in cases {
        let res = app.post_json("/api/register", &body).await;
        assert_eq!(res.status(), 400, "{body}");
        assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": msg }), "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_json_objects_are_refused_clearly() {
    let app = spawn_app().await;
    let send = |body: &'static str, ct: &'static str| {
        app.client.post(app.url("/api/login")).header("content-type", ct).body(body).send()
    };
    let res = send("{not json", "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "The request body is not valid JSON" }));
    let res = send("[1,2]", "application/json").await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "The JSON body must be an object" }));
    let res = send("username=a&password=b", "application/x-www-form-urlencoded").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "msg": "Send a JSON body with 'Content-Type: application/json'" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_body_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let huge = json!({ "username": "alice", "password": "x".repeat(1 << 20) });
    let res = app.post_json("/api/register", &huge).await;
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "Request body is too large (limit 16 KiB)" }));
    let res = app.post_json("/api/login", &huge).await;
    assert_eq!(res.status(), 413);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_is_a_conflict_and_the_first_account_is_untouched() {
    let app = spawn_app().await;
    assert_eq!(app.register("alice", "correct horse battery").await.status(), 201);
    let res = app.register("ALICE", "another password 123").await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "That username is taken. Choose another one." }));
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 200);
    assert_eq!(app.login("alice", "another password 123").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_without_credentials_is_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/protected")).send().await.unwrap();
    assert_unauthorized(res, "Missing Authorization header or session cookie").await;
    let res = app.client.get(app.url("/api/protected")).header("authorization", "Basic YTpi").send().await.unwrap();
    assert_unauthorized(res, "Authorization header must be 'Bearer <token>'").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_tokens_are_refused() {
    let app = spawn_app().await;
    for junk in ["x", "a.b.c", "...", "eyJhbGciOiJIUzI1NiJ9.e30.", &"a".repeat(20_000)] {
        let res = app.protected_with_bearer(junk).await;
        assert_eq!(res.status(), 401, "{}", &junk[..junk.len().min(20)]);
        assert!(res.headers().contains_key("www-authenticate"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_token_is_refused() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = "admin".into();
    parts[1] = B64.encode(claims.to_string());
    assert_unauthorized(app.protected_with_bearer(&parts.join(".")).await, "Token is invalid").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alg_none_token_is_refused() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    let payload = t.split('.').nth(1).unwrap();
    for alg in ["none", "None", "NONE"] {
        let header = B64.encode(
            json!({ "alg": alg, "typ": "JWT", "kid": app.state.keys.ring(app.clock_now()).active().kid() }).to_string(),
        );
        let res = app.protected_with_bearer(&format!("{header}.{payload}.")).await;
        assert_unauthorized(res, "Token is malformed").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_by_another_deployment_is_refused() {
    let app = spawn_app().await;
    app.signed_in("alice").await;
    let user_id: String = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users").fetch_one(app.state.db.pool()).await.unwrap().get(0)
    };
    let foreign = KeyRing::single(SigningKey::generate_hs256().unwrap().0);
    let grant = Grant {
        user_id: &user_id,
        role: Role::Admin,
        session_id: "s",
        auth_time: START,
        methods: &[AuthMethod::Password],
    };
    let t = token::issue_access(&foreign, &app.state.tokens, grant, "j".into(), START).unwrap();
    assert_unauthorized(app.protected_with_bearer(&t.token).await, "Token is invalid").await;
    // Same key, other audience.
    let policy = TokenPolicy { audience: "billing".into(), ..app.state.tokens.clone() };
    let grant = Grant {
        user_id: &user_id,
        role: Role::User,
        session_id: "s",
        auth_time: START,
        methods: &[AuthMethod::Password],
    };
    let t = token::issue_access(&app.state.keys.ring(START), &policy, grant, "j2".into(), START).unwrap();
    assert_unauthorized(app.protected_with_bearer(&t.token).await, "Token is invalid").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_and_a_fresh_one_is_not() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    app.clock.advance(899);
    assert_eq!(app.protected_with_bearer(&t).await.status(), 200);
    app.clock.advance(1 + app.state.tokens.leeway);
    assert_unauthorized(app.protected_with_bearer(&t).await, "Token has expired").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_token_at_once() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    let res = app.client.post(app.url("/api/logout")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_unauthorized(app.protected_with_bearer(&t).await, "Token has been revoked").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL").await, 1);
    // Logging out again with the dead token is refused, not an error.
    let res = app.client.post(app.url("/api/logout")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_refused_even_with_a_live_token() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    sqlx::query("UPDATE users SET disabled_at = 1").execute(app.state.db.pool()).await.unwrap();
    assert_unauthorized(app.protected_with_bearer(&t).await, "Account is not available").await;
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_also_accepts_the_session_cookie() {
    let app = spawn_app().await;
    let t = app.signed_in("alice").await;
    let res = app
        .client
        .get(app.url("/api/protected"))
        .header("cookie", format!("{ACCESS_COOKIE}={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_endpoints_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "No such API endpoint" }));
    let res = app.client.get(app.url("/api/login")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "msg": "Method not allowed on this endpoint" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters_by_default() {
    let app =
        spawn_app_with(Options { hash_params: gatehouse::auth::password::HashParams::OWASP, ..Options::default() })
            .await;
    app.register("alice", "correct horse battery").await;
    use sqlx::Row;
    let hash: String =
        sqlx::query("SELECT password_hash FROM users").fetch_one(app.state.db.pool()).await.unwrap().get(0);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains("correct horse"));
    assert_eq!(app.login("alice", "correct horse battery").await.status(), 200);
}
