//! Small pieces shared by the pages.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::app::auth::{Frame, Logout, Viewer, page_context};
use crate::domain::Role;
use crate::error::AppError;
use crate::flash::Flash;

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
}

/// The frame of every page: the header, the flash banner, and `children`
/// (the routes) in the main landmark.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let location = use_location();
    let frame = PageFrame(Resource::new_blocking(move || location.pathname.get(), |_| page_context()));
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

/// Renders a form with what the flash of this page load holds for it: why
/// its plain (no JavaScript) post was refused and the typed username. On
/// the server, a page showing a refused post answers with that error's
/// status.
///
/// Those come back only after a plain post, which always ends in a full
/// page load: so only the page the server renders (and its hydration)
/// waits for the flash. A client-side navigation shows the form at once
/// and never swaps it for another while someone is typing.
#[component]
pub fn WithFlash(children: ChildrenFn) -> impl IntoView {
    if !server_rendered() {
        provide_context(FlashNow(Flash::default()));
        return children().into_any();
    }
    let frame = PageFrame::here();
    view! {
        <Suspense fallback=|| ()>
            {
                let children = children.clone();
                move || {
                    let children = children.clone();
                    Suspend::new(async move {
                        let flash = frame.0.await.ok().and_then(|f| f.flash).unwrap_or_default();
                        #[cfg(feature = "ssr")]
                        answer_with_status(flash.error.as_ref());
                        provide_context(FlashNow(flash));
                        children()
                    })
                }
            }
        </Suspense>
    }
    .into_any()
}

/// Whether this render is the server's, or the browser hydrating it; not
/// a later client-side navigation.
fn server_rendered() -> bool {
    cfg!(feature = "ssr") || Owner::current_shared_context().is_some_and(|c| c.during_hydration())
}

/// Sets this page's status (and `Retry-After`) from `error`.
#[cfg(feature = "ssr")]
pub fn answer_with_status(error: Option<&AppError>) {
    use axum::http::{HeaderValue, header};
    let (Some(error), Some(response)) = (error, use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    response.set_status(error.status_code());
    if let Some(secs) = error.retry_after() {
        response.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

/// The flash of this page load, once [`WithFlash`] has it.
#[derive(Clone)]
struct FlashNow(Flash);

/// The last submission of the form on this page.
#[derive(Clone, Copy)]
struct Submission {
    error: Signal<Option<AppError>>,
    made: Signal<bool>,
}

/// Makes the form on this page show `action`'s errors.
pub fn form_feedback<S>(action: ServerAction<S>)
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    provide_context(Submission {
        error: Signal::derive(move || action.value().get().and_then(Result::err)),
        made: Signal::derive(move || action.version().get() > 0 || action.value().with(Option::is_some)),
    });
}

/// The error the form shows: its last submission's, or before any, the
/// one its plain post left in the flash.
fn shown_error() -> Signal<Option<AppError>> {
    let flashed = use_context::<FlashNow>().and_then(|f| f.0.error);
    match use_context::<Submission>() {
        Some(last) => Signal::derive(move || if last.made.get() { last.error.get() } else { flashed.clone() }),
        None => Signal::stored(flashed),
    }
}

/// The username the refused plain post carried, to type it in again.
fn kept_username() -> Option<String> {
    use_context::<FlashNow>().and_then(|f| f.0.username)
}

/// The form field an error is about, if it names one.
fn field_of(error: &AppError) -> Option<&str> {
    match error {
        AppError::Invalid { field, .. } => field.as_deref(),
        _ => None,
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

/// A form's submit button: disabled and relabelled while the server
/// function runs, so a form cannot be sent twice.
#[component]
pub fn Submit(
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    pending_label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class="button primary" disabled=move || pending.get() data-testid=testid>
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}

/// The error of the last submission that is not about one field (those
/// show beside their field), announced to screen readers. Focus moves to
/// the first error: the field it names, or this message. When the sign-in
/// is too old for the action, a link leads to confirming the password and
/// back to this page.
#[component]
pub fn FormError() -> impl IntoView {
    let location = use_location();
    let shown = shown_error();
    let error = Signal::derive(move || shown.get().filter(|e| field_of(e).is_none()));
    let reauth = move || format!("/reauth?{}", crate::domain::query_string(&[("next", &location.pathname.get())]));
    let message = NodeRef::<leptos::html::P>::new();
    // In the browser: after each refused submission. Without JavaScript,
    // `autofocus` does the same on the page that shows the error.
    Effect::new(move |_| {
        let Some(e) = shown.get() else { return };
        focus_first_error(field_of(&e), message);
    });
    view! {
        <p
            class="form-error"
            id="form-error"
            role="alert"
            aria-live="assertive"
            tabindex="-1"
            autofocus=move || error.get().is_some()
            node_ref=message
            data-testid="form-error"
        >
            {move || error.get().map(|e| e.to_string())}
            {move || {
                matches!(error.get(), Some(AppError::ReauthRequired))
                    .then(|| view! { " " <A href=reauth attr:data-testid="reauth-link">"Confirm your password"</A> })
            }}
        </p>
    }
}

/// Moves focus to the input named `field`, else to the form's message.
/// Waits for the next frame: until the message's text is in, the empty
/// message is not displayed and cannot take the focus.
fn focus_first_error(field: Option<&str>, message: NodeRef<leptos::html::P>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let field = field.map(str::to_owned);
        request_animation_frame(move || {
            let input = field
                .and_then(|id| document().get_element_by_id(&id))
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            let target = input.or_else(|| message.get_untracked().map(Into::into));
            if let Some(el) = target {
                let _ = el.focus();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (field, message);
}

/// A page that could not be shown, in the site's design, answered with the
/// error's status: 403 "signed in, but not allowed", 429 with the wait,
/// 500 with the request's reference to quote, 503 while the database is
/// away. A session that ended while the page was open leads to signing in
/// again, and back.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    if matches!(error, AppError::Unauthorized(_)) {
        let here = use_location().pathname.get_untracked();
        let to = format!("/login?{}", crate::domain::query_string(&[("next", &here)]));
        return view! { <leptos_router::components::Redirect path=to /> }.into_any();
    }
    #[cfg(feature = "ssr")]
    answer_with_status(Some(&error));
    let (title, advice): (&str, &str) = match &error {
        AppError::Forbidden(_) => (
            "You do not have access to this page",
            "You are signed in, but this area is for administrators. If you need it, ask one of them to give your account the admin role.",
        ),
        AppError::TooManyAttempts { .. } => ("Too many attempts", "This protects your account from guessing."),
        AppError::Internal { .. } => (
            "Something went wrong",
            "The fault is ours, not yours, and it has been logged. Please try again in a moment.",
        ),
        AppError::Unavailable | AppError::Busy | AppError::Network => {
            ("Gatehouse is busy", "Nothing you did caused this. Please try again in a moment.")
        }
        _ => ("This page could not be shown", ""),
    };
    let message = match &error {
        AppError::Forbidden(_) | AppError::Internal { .. } => None,
        e => Some(e.to_string()),
    };
    let reference = match &error {
        AppError::Internal { reference } => reference.clone(),
        _ => None,
    };
    let status = error.status();
    view! {
        <section class="card error-page" aria-labelledby="error-title" data-testid="error-page" data-status=status>
            <p class="status-code" aria-hidden="true">{status}</p>
            <h1 id="error-title">{title}</h1>
            {message.map(|m| view! { <p data-testid="error-message">{m}</p> })}
            {(!advice.is_empty()).then(|| view! { <p class="muted">{advice}</p> })}
            {reference
                .map(|r| {
                    view! {
                        <p class="reference">
                            "If you contact support, quote this reference: " <code data-testid="request-id">{r}</code>
                        </p>
                    }
                })}
            <p class="actions start">
                <A href="/dashboard" attr:class="button">"Go to your dashboard"</A>
                <A href="/">"Front page"</A>
            </p>
        </section>
    }
    .into_any()
}

/// A labelled input; `hint` is shown under it and tied to it for
/// assistive technology, and so is an error about this field. `keep`
/// refills it with what a refused plain post carried (only the username
/// is ever kept). A password field gets a Show/Hide button once the page
/// is interactive (without JavaScript it would do nothing, so it stays
/// hidden; it sits over the input's padding, so appearing moves nothing).
#[component]
pub fn Field(
    id: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] maxlength: Option<u32>,
    #[prop(optional)] keep: bool,
    #[prop(optional)] node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let shown = shown_error();
    let error = Signal::derive(move || shown.get().filter(|e| field_of(e) == Some(id)).map(|e| e.to_string()));
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::with_capacity(3);
            if hint.is_some() {
                ids.push(hint_id.as_str());
            }
            ids.push(if error.get().is_some() { error_id.as_str() } else { "form-error" });
            ids.join(" ")
        }
    };
    let kept = keep.then(kept_username).flatten();
    let secret = kind == "password";
    let revealed = RwSignal::new(false);
    let interactive = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| interactive.set(true));
    let input_type = move || if secret && revealed.get() { "text" } else { kind };
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id>{label}</label>
            <div class="input-wrap" class:has-reveal=secret>
                <input
                    id=id
                    name=id
                    type=input_type
                    autocomplete=autocomplete
                    required
                    maxlength=maxlength
                    value=kept
                    aria-describedby=described_by
                    aria-invalid=move || error.get().is_some().then_some("true")
                    autofocus=move || error.get().is_some()
                    spellcheck="false"
                    autocapitalize="none"
                    node_ref=node_ref
                />
                {secret
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="reveal"
                                hidden=move || !interactive.get()
                                aria-controls=id
                                aria-pressed=move || revealed.get().to_string()
                                data-testid=format!("{id}-reveal")
                                on:click=move |_| revealed.update(|s| *s = !*s)
                            >
                                {move || if revealed.get() { "Hide" } else { "Show" }}
                                <span class="visually-hidden">" password"</span>
                            </button>
                        }
                    })}
            </div>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <p class="field-error" id=error_id data-testid=format!("{id}-error") hidden=move || error.get().is_none()>
                {error}
            </p>
        </div>
    }
}
