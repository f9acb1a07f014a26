//! Forms: fields, the submit button, the form's error, and what a refused
//! plain (no JavaScript) post left in the flash for them.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use super::layout::after_frame;
use crate::error::AppError;
use crate::flash::Flash;

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
    after_frame(children, |frame, children| {
        let flash = frame.ok().and_then(|f| f.flash).unwrap_or_default();
        #[cfg(feature = "ssr")]
        answer_with_status(flash.error.as_ref());
        provide_context(FlashNow(flash));
        children()
    })
    .into_any()
}

/// Whether this render is the server's, or the browser hydrating it; not
/// a later client-side navigation.
fn server_rendered() -> bool {
    cfg!(feature = "ssr") || Owner::current_shared_context().is_some_and(|c| c.during_hydration())
}

/// Sets this page's status (and `Retry-After`) from `error`.
#[cfg(feature = "ssr")]
pub(super) fn answer_with_status(error: Option<&AppError>) {
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

/// Recovery codes a plain form post made, in this page load's flash.
pub fn flashed_recovery_codes() -> Option<Vec<String>> {
    use_context::<FlashNow>().and_then(|f| f.0.recovery_codes)
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
    let here = super::here(location);
    let reauth = move || crate::domain::reauth_url(&here.get());
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
