//! The user interface, shared by the server (SSR) and the browser
//! (hydration): the HTML shell, one route per page of the page table, the
//! pages, and the thin server functions they call.

mod components;
mod pages;
pub mod server;

use leptos::prelude::*;
use leptos::tachys::view::iterators::StaticVec;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::any_nested_route::{AnyNestedRoute, IntoAnyNestedRoute};
use leptos_router::components::{RouteChildren, Router, Routes, RoutesProps};
use leptos_router::{NestedRoute, PartialPathMatch, PathSegment, PossibleRouteMatch, SsrMode, StaticSegment};

use crate::domain::{Page, Rule};
use pages::{
    AccountPage, AccountsPage, AuditLogPage, DashboardPage, HomePage, LoginPage, NotFoundPage, ReauthPage,
    RegisterPage, ResetPage, SecondStepPage, SessionsPage, TwoStepPage,
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
                <script type="module" src="/passkeys.js" nonce=leptos::nonce::use_nonce()></script>
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

/// The server's routes, listed once per process and then copied.
///
/// Listing them renders the app with resource loading switched off, and
/// leptos_server 0.8 keeps that switch in one process-wide flag
/// (`SuppressResourceLoad`), not per thread: a page that renders anywhere
/// in the process while a list is being made starts resources that never
/// load, and its render never ends. Listed once, before the first router
/// exists, no render can overlap a listing, however many apps share the
/// process (the integration tests, the benchmarks and the fuzz targets start
/// many).
#[cfg(feature = "ssr")]
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| leptos_axum::generate_route_list(App)).clone()
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
    if let Ok(value) = HeaderValue::from_str(&crate::web::middleware::page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The application: header, the pages of the page table, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title formatter=|page: String| if page.is_empty() { "Gatehouse".to_owned() } else { format!("{page} · Gatehouse") } />
        <Router>
            <components::Layout>
                {Routes(
                    RoutesProps::builder().fallback(not_found).children(RouteChildren::to_children(routes)).build(),
                )}
            </components::Layout>
        </Router>
    }
}

/// One route per page of the table (`domain::pages`), each at its path and
/// behind its rule. Pages with forms render with `SsrMode::Async`: with
/// out-of-order streaming a browser without JavaScript would get the
/// Suspense fallback, not the form and its error.
fn routes() -> StaticVec<AnyNestedRoute> {
    Page::ALL
        .iter()
        .map(|&page| {
            NestedRoute::new(PagePath(page.path()), move || guarded(page))
                .ssr_mode(SsrMode::Async)
                .into_any_nested_route()
        })
        .collect::<Vec<_>>()
        .into()
}

/// The 404 page, behind the rule of the page the address is under: a
/// made-up address in the admin area is as forbidden as the area.
fn not_found() -> impl IntoView {
    view! { <components::Guarded>{|| view! { <NotFoundPage /> }}</components::Guarded> }
}

/// `page`'s view, behind its own guard unless anyone may see it.
fn guarded(page: Page) -> AnyView {
    if page.rule() == Rule::ANYONE {
        return view_of(page);
    }
    view! { <components::Guarded>{move || view_of(page)}</components::Guarded> }.into_any()
}

fn view_of(page: Page) -> AnyView {
    match page {
        Page::Home => view! { <HomePage /> }.into_any(),
        Page::Login => view! { <LoginPage /> }.into_any(),
        Page::SecondStep => view! { <SecondStepPage /> }.into_any(),
        Page::TwoStep => view! { <TwoStepPage /> }.into_any(),
        Page::Register => view! { <RegisterPage /> }.into_any(),
        Page::Reset => view! { <ResetPage /> }.into_any(),
        Page::Dashboard => view! { <DashboardPage /> }.into_any(),
        Page::Sessions => view! { <SessionsPage /> }.into_any(),
        Page::Account => view! { <AccountPage /> }.into_any(),
        Page::Reauth => view! { <ReauthPage /> }.into_any(),
        Page::Accounts => view! { <AccountsPage /> }.into_any(),
        Page::AuditLog => view! { <AuditLogPage /> }.into_any(),
    }
}

/// A page's path as the router matches it: each `/`-separated part a
/// static segment.
#[derive(Clone, Copy, Debug)]
struct PagePath(&'static str);

impl PagePath {
    fn segments(self) -> impl Iterator<Item = StaticSegment<&'static str>> {
        self.0.trim_start_matches('/').split('/').map(StaticSegment)
    }
}

impl PossibleRouteMatch for PagePath {
    fn optional(&self) -> bool {
        false
    }

    fn test<'a>(&self, path: &'a str) -> Option<PartialPathMatch<'a>> {
        let mut rest = path;
        for segment in self.segments() {
            rest = segment.test(rest)?.remaining();
        }
        Some(PartialPathMatch::new(rest, Vec::new(), &path[..path.len() - rest.len()]))
    }

    fn generate_path(&self, path: &mut Vec<PathSegment>) {
        for segment in self.segments() {
            segment.generate_path(path);
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_router_serves_every_page_of_the_table_and_nothing_else() {
        let mut routed: Vec<String> = route_list().iter().map(|r| r.path().to_owned()).collect();
        let mut table: Vec<String> = Page::ALL.iter().map(|p| p.path().to_owned()).collect();
        routed.sort();
        table.sort();
        assert_eq!(routed, table);
    }

    #[test]
    fn a_page_path_matches_itself_whole_and_nothing_longer() {
        let audit = PagePath("/admin/audit");
        assert!(audit.test("/admin/audit").is_some_and(|m| m.is_complete()));
        assert!(audit.test("/admin").is_none());
        assert!(audit.test("/admin/auditx").is_none());
        assert!(PagePath("/").test("/").is_some_and(|m| m.is_complete()));
        assert!(PagePath("/login").test("/login").is_some_and(|m| m.is_complete()));
        assert!(PagePath("/login").test("/logins").is_none());
    }
}
