//! The user interface, shared by the server (SSR) and the browser
//! (hydration): the HTML shell, the routes, the pages, and the thin server
//! functions they call.

pub mod admin;
pub mod auth;
mod components;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use pages::{
    AccountPage, AdminPage, AuditPage, DashboardPage, HomePage, LoginPage, NotFoundPage, ReauthPage, RegisterPage,
    ResetPage, SessionsPage,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Sends this page's Content-Security-Policy, naming the nonce Leptos put
/// on its inline scripts for this response.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use axum::http::{HeaderValue, header};
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&crate::middleware::page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The application: header, routes, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title formatter=|page: String| if page.is_empty() { "Gatehouse".to_owned() } else { format!("{page} · Gatehouse") } />
        <Router>
            <components::Layout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/reauth") view=ReauthPage ssr=SsrMode::Async />
                    <Route path=path!("/reset") view=ResetPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async />
                </Routes>
            </components::Layout>
        </Router>
    }
}
