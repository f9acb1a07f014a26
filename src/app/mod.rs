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

use crate::domain::Role;

use pages::{
    AccountPage, AdminPage, AuditPage, DashboardPage, HomePage, LoginPage, NotFoundPage, ReauthPage, RegisterPage,
    ResetPage, SessionsPage,
};

/// What it takes to load a protected page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRule {
    /// The page and everything under it.
    pub prefix: &'static str,
    /// Only this role may see it (others get 403).
    pub role: Option<Role>,
    /// Its purpose is a sensitive action, so the person must have signed
    /// in or confirmed their password recently.
    pub fresh: bool,
}

/// Pages that only a signed-in person may load. The server's page guard
/// consults this list before rendering anything.
pub const PROTECTED_PAGES: &[PageRule] = &[
    PageRule { prefix: "/dashboard", role: None, fresh: false },
    PageRule { prefix: "/reauth", role: None, fresh: false },
    PageRule { prefix: "/sessions", role: None, fresh: false },
    PageRule { prefix: "/account", role: None, fresh: true },
    PageRule { prefix: "/admin", role: Some(Role::Admin), fresh: true },
];

/// The rule for `path` when it is (or is under) a protected page.
pub fn page_rule(path: &str) -> Option<&'static PageRule> {
    PROTECTED_PAGES
        .iter()
        .find(|p| path.strip_prefix(p.prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

/// The application: header, routes, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title formatter=|page: String| if page.is_empty() { "Gatehouse".to_owned() } else { format!("{page} · Gatehouse") } />
        <Router>
            <components::Header />
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/register") view=RegisterPage />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/reauth") view=ReauthPage ssr=SsrMode::Async />
                    <Route path=path!("/reset") view=ResetPage ssr=SsrMode::Async />
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AuditPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_protected(path: &str) -> bool {
        page_rule(path).is_some()
    }

    #[test]
    fn the_admin_area_needs_the_admin_role_and_a_recent_sign_in() {
        let rule = page_rule("/admin/audit").unwrap();
        assert_eq!((rule.role, rule.fresh), (Some(Role::Admin), true));
        assert!(page_rule("/account").unwrap().fresh);
        assert!(!page_rule("/dashboard").unwrap().fresh);
    }

    #[test]
    fn protection_covers_the_page_and_below_but_not_look_alikes() {
        assert!(is_protected("/dashboard"));
        assert!(is_protected("/dashboard/"));
        assert!(is_protected("/dashboard/anything"));
        assert!(!is_protected("/dashboards"));
        assert!(!is_protected("/login"));
        assert!(!is_protected("/"));
    }
}
