use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The front page: what Gatehouse is and where to go.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"Sign in once. Stay safe everywhere."</h1>
            <p class="lead">
                "Gatehouse signs people in and protects pages and APIs with short-lived JSON Web Tokens: "
                "an HttpOnly cookie for this site, a Bearer token for apps and services."
            </p>
            <div class="actions">
                <A href="/register" attr:class="button primary">"Create an account"</A>
                <A href="/login" attr:class="button">"Sign in"</A>
            </div>
        </section>
        <section class="features" aria-label="How Gatehouse protects you">
            <article>
                <h2>"Passwords done right"</h2>
                <p>"Argon2id with OWASP parameters, never stored or logged in the clear."</p>
            </article>
            <article>
                <h2>"Tokens that stay put"</h2>
                <p>"Your session lives in a host-only, HttpOnly, Secure cookie that no script can read."</p>
            </article>
            <article>
                <h2>"Sign-out that works"</h2>
                <p>"Signing out revokes the token on the server at once, not just in your browser."</p>
            </article>
        </section>
    }
}
