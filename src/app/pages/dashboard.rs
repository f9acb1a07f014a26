use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};

use crate::app::auth::current_user;

/// The signed-in home. The server's page guard has already refused anyone
/// without a valid session; the redirect below covers client-side
/// navigation after the session ended.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let viewer = Resource::new_blocking(|| (), |()| current_user());
    view! {
        <Title text="Dashboard" />
        <Suspense fallback=|| view! { <p class="card">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(v)) => {
                        view! {
                            <section class="card" aria-labelledby="dash-title">
                                <h1 id="dash-title">"Dashboard"</h1>
                                <p class="signed-in" data-testid="signed-in-as">
                                    "Signed in as " <strong>{v.username}</strong>
                                </p>
                                <p class="muted">"Role: " {v.role.to_string()}</p>
                                <p>
                                    <A href="/sessions">"See where you are signed in"</A>
                                </p>
                            </section>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login?next=%2Fdashboard" /> }.into_any(),
                    Err(e) => view! { <p class="card form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
