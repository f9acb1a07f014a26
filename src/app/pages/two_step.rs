use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::app::components::{ErrorPage, Field, FormError, Submit, WithFlash, flashed_recovery_codes, form_feedback};
use crate::app::server::factors::{BeginTotp, ConfirmTotp, DisableTotp, RenewRecoveryCodes, TotpView, totp_state};
use crate::domain::format_utc;

/// Two-step sign-in: adding an authenticator app (QR code, or its key
/// typed in, then a first code), the recovery codes, turning it off. Every
/// change works as a plain form post as well as hydrated.
#[component]
pub fn TwoStepPage() -> impl IntoView {
    let begin = ServerAction::<BeginTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let disable = ServerAction::<DisableTotp>::new();
    let renew = ServerAction::<RenewRecoveryCodes>::new();
    form_feedback(confirm);
    let changes =
        move || (begin.version().get(), confirm.version().get(), disable.version().get(), renew.version().get());
    let status = Resource::new_blocking(changes, |_| totp_state());
    // The newest codes made on this page, shown until the page is left.
    let fresh = RwSignal::new(None::<Vec<String>>);
    for made in [confirm.value(), renew.value()] {
        Effect::new(move |_| {
            if let Some(Ok(codes)) = made.get() {
                fresh.set(Some(codes));
            }
        });
    }
    let refused = move || {
        [begin.value().get(), disable.value().get()]
            .into_iter()
            .flatten()
            .find_map(Result::err)
            .or_else(|| renew.value().get().and_then(Result::err))
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Two-step sign-in" />
        <section class="card wide" aria-labelledby="two-step-title">
            <h1 id="two-step-title">"Two-step sign-in"</h1>
            <p class="muted">
                "With two-step sign-in, signing in takes your password and a 6-digit code from an authenticator
                 app on your phone. Someone who learns your password still cannot get in."
            </p>
            <p class="form-error" role="alert" data-testid="action-error">{refused}</p>
            <WithFlash>
                {move || {
                    let codes = fresh.get().or_else(flashed_recovery_codes);
                    codes.map(|codes| view! { <RecoveryCodes codes /> })
                }}
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let view = match status.await {
                            Ok(view) => view,
                            Err(e) => return view! { <ErrorPage error=e /> }.into_any(),
                        };
                        let on = matches!(view.totp, TotpView::On { .. });
                        let demand = view.required.then(|| view! { <Required owed=view.owed on /> });
                        let factor = match view.totp {
                            TotpView::Off => view! { <Off begin /> }.into_any(),
                            TotpView::Pending { secret, qr_svg, otpauth_uri } => {
                                view! { <Pending secret qr_svg otpauth_uri confirm disable /> }.into_any()
                            }
                            TotpView::On { since, recovery_codes_left } => {
                                view! { <On since recovery_codes_left renew disable /> }.into_any()
                            }
                        };
                        view! { {demand} {factor} }.into_any()
                    })}
                </Suspense>
            </WithFlash>
            <p class="alt"><A href="/account">"Back to your account"</A></p>
        </section>
        <super::passkeys::PasskeysSection wide=true />
    }
}

/// What the server's policy asks of this person, and, while this session
/// has shown no second factor, the one way on.
#[component]
fn Required(owed: bool, on: bool) -> impl IntoView {
    let text = match (owed, on) {
        (false, _) => "This server requires two-step sign-in for your account.",
        (true, false) => {
            "This server requires two-step sign-in for your account. Turn on an authenticator app below, or add a \
             passkey, to continue."
        }
        (true, true) => "This server requires two-step sign-in. Confirm with a code from your app to continue.",
    };
    let confirm = crate::domain::reauth_url("/dashboard");
    view! {
        <p class="notice" role="status" data-testid="two-step-required">
            {text}
            {(owed && on).then(|| view! { " " <A href=confirm>"Confirm with a code"</A> })}
        </p>
    }
}

#[component]
fn Off(begin: ServerAction<BeginTotp>) -> impl IntoView {
    view! {
        <p data-testid="totp-status">"Two-step sign-in is " <strong>"off"</strong> "."</p>
        <ActionForm action=begin>
            <button type="submit" class="button primary" data-testid="totp-begin">"Set up an authenticator app"</button>
        </ActionForm>
    }
}

#[component]
fn Pending(
    secret: String,
    qr_svg: String,
    otpauth_uri: String,
    confirm: ServerAction<ConfirmTotp>,
    disable: ServerAction<DisableTotp>,
) -> impl IntoView {
    let pending = confirm.pending();
    let grouped = secret.as_bytes().chunks(4).map(String::from_utf8_lossy).collect::<Vec<_>>().join(" ");
    view! {
        <ol class="setup-steps" data-testid="totp-pending">
            <li>
                <p>
                    "In your authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Aegis
                     and most others), add an account and scan this code:"
                </p>
                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=qr_svg></div>
                <p class="small">
                    "Cannot scan it? Type this key in instead: "
                    <code class="secret" data-testid="totp-secret">{grouped}</code>
                    " (time-based, 6 digits). On this device, "
                    <a href=otpauth_uri>"open it in your app"</a>"."
                </p>
            </li>
            <li>
                <p>"Type the 6-digit code the app now shows, to check it works:"</p>
                <ActionForm action=confirm>
                    <Field id="code" label="Code from the app" autocomplete="one-time-code" maxlength=12 />
                    <FormError />
                    <Submit pending label="Turn on two-step sign-in" pending_label="Checking…" testid="totp-confirm" />
                </ActionForm>
            </li>
        </ol>
        <ActionForm action=disable>
            <button type="submit" class="button" data-testid="totp-cancel">"Cancel"</button>
        </ActionForm>
    }
}

#[component]
fn On(
    since: i64,
    recovery_codes_left: i64,
    renew: ServerAction<RenewRecoveryCodes>,
    disable: ServerAction<DisableTotp>,
) -> impl IntoView {
    let left = match recovery_codes_left {
        0 => "No recovery codes left: make a new set now, or losing your phone locks you out.".to_owned(),
        1 => "1 recovery code left.".to_owned(),
        n => format!("{n} recovery codes left."),
    };
    view! {
        <p data-testid="totp-status">
            "Two-step sign-in is " <strong>"on"</strong> ", with an authenticator app added " {format_utc(since)} "."
        </p>
        <p data-testid="recovery-left">{left}</p>
        <div class="actions start">
            <ActionForm action=renew>
                <button type="submit" class="button" data-testid="recovery-renew">"Make new recovery codes"</button>
            </ActionForm>
            <ActionForm action=disable>
                <button type="submit" class="button danger" data-testid="totp-disable">"Turn off two-step sign-in"</button>
            </ActionForm>
        </div>
    }
}

/// A new set of recovery codes, shown once, to copy or download.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    let text = format!(
        "Gatehouse recovery codes. Each works once, in place of a code from your authenticator app.\n\n{}\n",
        codes.join("\n")
    );
    let download = data_url(&text);
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <div class="recovery" role="status" data-testid="recovery-codes">
            <h2>"Your recovery codes"</h2>
            <p>
                "If you lose your phone, each of these lets you sign in once instead of a code. Keep them somewhere
                 safe, apart from your phone. This is the only time they are shown."
            </p>
            <ol class="codes">
                {codes.into_iter().map(|c| view! { <li><code data-testid="recovery-code">{c}</code></li> }).collect_view()}
            </ol>
            <div class="actions start">
                <a class="button small" href=download download="gatehouse-recovery-codes.txt">"Download"</a>
                <button type="button" class="button small" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

/// `text` as a `data:` URL, every byte that is not a letter or digit
/// percent-encoded.
fn data_url(text: &str) -> String {
    use std::fmt::Write as _;
    let mut url = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() {
            url.push(char::from(b));
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url
}
