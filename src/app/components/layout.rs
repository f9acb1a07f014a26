//! The frame around every page: the header with who is signed in, the
//! flash banner, and the page context they share.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::app::server::session::{Frame, Logout, Viewer, page_context};
use crate::domain::Role;
use crate::error::AppError;

/// What every page needs besides its own data (who is signed in, the
/// flash), fetched once per navigation and shared by the header, the flash
/// banner and the forms.
#[derive(Clone, Copy)]
pub struct PageFrame(Resource<Result<Frame, AppError>>);

impl PageFrame {
    /// This page's frame, provided by [`Layout`].
    pub fn here() -> Self {
        expect_context()
    }

    /// Who is signed in: the session was checked once for this navigation,
    /// and every part of the page asks here rather than checking again.
    pub async fn viewer(self) -> Result<Option<Viewer>, AppError> {
        self.0.await.map(|f| f.viewer)
    }

    /// The whole frame: viewer, the page rule's verdict, and the flash.
    pub async fn get(self) -> Result<Frame, AppError> {
        self.0.await
    }
}

/// `render` of this page's frame and `children`, once the frame is in: what
/// a part of the page that depends on who is signed in, or on the flash,
/// is wrapped in.
pub fn after_frame(
    children: ChildrenFn,
    render: impl Fn(Result<Frame, AppError>, ChildrenFn) -> AnyView + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let frame = PageFrame::here();
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let (children, render) = (children.clone(), render.clone());
                Suspend::new(async move { render(frame.get().await, children) })
            }}
        </Suspense>
    }
}

/// The frame of every page: the header, the flash banner, and `children`
/// (the routes) in the main landmark.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let frame = PageFrame(Resource::new_blocking(move || location.pathname.get(), page_context));
    provide_context(frame);
    // A form sent from this page makes the flash old news: its own answer
    // replaces it. A new page starts afresh.
    let flash_dismissed = FlashDismissed(RwSignal::new(false));
    provide_context(flash_dismissed);
    Effect::new(move |_| {
        location.pathname.track();
        flash_dismissed.0.set(false);
    });
    view! {
        <Header />
        <main id="main" on:submit=move |_| flash_dismissed.0.set(true)>
            <FlashBanner />
            {children()}
        </main>
    }
}

/// Whether a form was sent since this page showed its flash.
#[derive(Clone, Copy)]
struct FlashDismissed(RwSignal<bool>);

/// The notice left for this page by the step before ("You have been
/// signed out"), shown once.
#[component]
fn FlashBanner() -> impl IntoView {
    let (frame, dismissed) = (PageFrame::here(), expect_context::<FlashDismissed>().0);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let notice = frame.0.await.ok().and_then(|f| f.flash).and_then(|f| f.notice);
                notice.map(|n| {
                    view! {
                        <p class="flash notice" role="status" data-testid="flash" hidden=move || dismissed.get()>
                            {n}
                        </p>
                    }
                })
            })}
        </Suspense>
    }
}

/// The Gatehouse mark, inline so it never depends on a font.
#[component]
fn Mark() -> impl IntoView {
    view! {
        <svg class="brand-mark" viewBox="0 0 64 64" width="26" height="26" aria-hidden="true" focusable="false">
            <path d="M32 4 8 13v17c0 15 10 26 24 30 14-4 24-15 24-30V13L32 4Z" fill="currentColor" />
            <path d="M22 30h20v16H22z" fill="var(--surface)" />
            <path d="M26 30v-5a6 6 0 0 1 12 0v5" fill="none" stroke="var(--surface)" stroke-width="4" />
        </svg>
    }
}

/// The site header: who is signed in and a sign-out button, or the ways
/// in. Re-checked on every navigation; rendered on the server before the
/// page is sent, so it is right without JavaScript too.
#[component]
fn Header() -> impl IntoView {
    let frame = PageFrame::here();
    view! {
        <header class="site-header">
            <A href="/" attr:class="brand">
                <Mark />
                "Gatehouse"
            </A>
            <nav aria-label="Main">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match frame.viewer().await {
                            Ok(Some(v)) => {
                                view! {
                                    <A href="/dashboard">"Dashboard"</A>
                                    <A href="/sessions">"Sessions"</A>
                                    <A href="/account">"Account"</A>
                                    {(v.role == Role::Admin).then(|| view! { <A href="/admin">"Admin"</A> })}
                                    <span class="who" data-testid="header-user">
                                        {v.username} <span class="role">{v.role.to_string()}</span>
                                    </span>
                                    <SignOut />
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <A href="/login">"Sign in"</A>
                                    <A href="/register" attr:class="button-link">"Create account"</A>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

/// Signs out: revokes the token on the server and clears the cookie.
#[component]
fn SignOut() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action=action attr:class="inline-form">
            <button type="submit" class="button small" data-testid="sign-out" disabled=move || action.pending().get()>
                "Sign out"
            </button>
        </ActionForm>
    }
}
