//! Every page of the site, and who may see it: the one table the router,
//! the server's page guard, the server functions behind each page and the
//! end-to-end tests all read. A page cannot exist without its rule: each
//! is one line of the `pages!` table below, variant, path and rule
//! together.

use serde::{Deserialize, Serialize};

use super::{Role, query_string};

/// Who may load a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Anyone,
    SignedIn,
    /// Signed in with the `admin` role; others get 403.
    Admin,
}

/// What it takes to load a page, or to call what serves its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub access: Access,
    /// Its purpose is a sensitive action, so the person must have signed in
    /// or confirmed their password within the re-authentication window.
    pub fresh: bool,
    /// Open to a person who must set up a second factor and has not yet
    /// (`GATEHOUSE_REQUIRE_MFA`): the way to set one up. Every other rule
    /// refuses them.
    pub setup: bool,
}

impl Rule {
    pub const ANYONE: Self = Self { access: Access::Anyone, fresh: false, setup: false };
    pub const SIGNED_IN: Self = Self { access: Access::SignedIn, fresh: false, setup: false };
    pub const RECENT_SIGN_IN: Self = Self { access: Access::SignedIn, fresh: true, setup: false };
    pub const ADMIN: Self = Self { access: Access::Admin, fresh: true, setup: false };
    /// Setting up a second factor: a recent sign-in, open to those who
    /// must set one up.
    pub const SETUP: Self = Self { access: Access::SignedIn, fresh: true, setup: true };
    /// Confirming who one is: open to those who must set up a factor too
    /// (setting one up needs a recent sign-in).
    pub const CONFIRM: Self = Self { access: Access::SignedIn, fresh: false, setup: true };

    /// Whether `viewer` may pass: the one access rule of pages, server
    /// functions and the API. `fresh_enough` says whether the viewer's
    /// sign-in is recent, asked only when the rule needs it.
    ///
    /// # Errors
    /// The [`Refusal`] to answer with.
    pub fn check(self, viewer: Option<Viewer>, fresh_enough: impl FnOnce() -> bool) -> Result<(), Refusal> {
        let viewer = match (self.access, viewer) {
            (Access::Anyone, _) => return Ok(()),
            (_, None) => return Err(Refusal::SignIn),
            (_, Some(viewer)) => viewer,
        };
        if self.access == Access::Admin && viewer.role != Role::Admin {
            return Err(Refusal::Forbidden);
        }
        if viewer.owes_second_factor && !self.setup {
            return Err(Refusal::SetUpSecondFactor);
        }
        if self.fresh && !fresh_enough() {
            return Err(Refusal::Reauthenticate);
        }
        Ok(())
    }
}

/// Who is signed in, as far as [`Rule::check`] cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub role: Role,
    /// The policy asks this person for a second factor, and this session
    /// has shown none.
    pub owes_second_factor: bool,
}

impl Viewer {
    /// A person the policy asks nothing more of.
    pub const fn plain(role: Role) -> Self {
        Self { role, owes_second_factor: false }
    }
}

/// Why [`Rule::check`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nobody is signed in: sign in, then come back.
    SignIn,
    /// Signed in, but not recently enough: confirm the password, then come back.
    Reauthenticate,
    /// Signed in, but this is not for them.
    Forbidden,
    /// Signed in, but the policy asks for a second factor first: set one up
    /// (or confirm with it), then come back.
    SetUpSecondFactor,
}

/// Declares [`Page`] from one table: each page's variant, path and rule on
/// one line, so none can be added without the other two, and
/// [`Page::ALL`] lists every variant by construction.
macro_rules! pages {
    ($($(#[$doc:meta])* $page:ident at $path:literal for $rule:expr;)*) => {
        /// The pages of the site.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Page {
            $($(#[$doc])* $page,)*
        }

        impl Page {
            /// Every page, in the order of the table.
            pub const ALL: &'static [Self] = &[$(Self::$page,)*];

            /// Where the page lives.
            pub const fn path(self) -> &'static str {
                match self {
                    $(Self::$page => $path,)*
                }
            }

            /// Who may load it.
            pub const fn rule(self) -> Rule {
                match self {
                    $(Self::$page => $rule,)*
                }
            }
        }
    };
}

pages! {
    Home at "/" for Rule::ANYONE;
    Login at "/login" for Rule::ANYONE;
    /// The code after the password, for an account with a second factor
    /// (the pending sign-in's cookie is the credential).
    SecondStep at "/login/code" for Rule::ANYONE;
    Register at "/register" for Rule::ANYONE;
    /// Setting a new password with a reset link (the link is the credential).
    Reset at "/reset" for Rule::ANYONE;
    Dashboard at "/dashboard" for Rule::SIGNED_IN;
    Sessions at "/sessions" for Rule::SIGNED_IN;
    /// Changing the password.
    Account at "/account" for Rule::RECENT_SIGN_IN;
    /// Two-step sign-in: the authenticator app and recovery codes.
    TwoStep at "/account/two-step" for Rule::SETUP;
    /// Confirming the password (or a code) before a sensitive action.
    Reauth at "/reauth" for Rule::CONFIRM;
    /// The administrators' list of accounts.
    Accounts at "/admin" for Rule::ADMIN;
    AuditLog at "/admin/audit" for Rule::ADMIN;
}

impl Page {
    /// The page `path` is, or is under: the one whose path is the longest
    /// whole-segment prefix of it. Everything is under the front page, so
    /// an unknown address is governed by the nearest page above it
    /// (`/admin/anything` by `/admin`).
    pub fn governing(path: &str) -> Self {
        Self::ALL
            .iter()
            .copied()
            .filter(|page| is_under(path, page.path()))
            .max_by_key(|page| page.path().len())
            .unwrap_or(Self::Home)
    }
}

fn is_under(path: &str, page: &str) -> bool {
    page == "/" || path.strip_prefix(page).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The sign-in page, bringing the person back to `next` afterwards.
pub fn sign_in_url(next: &str) -> String {
    with_next(Page::Login, next)
}

/// The page asking for the code after the password, then going on to `next`.
pub fn second_step_url(next: &str) -> String {
    with_next(Page::SecondStep, next)
}

/// The page to confirm one's password, then go on to `next`.
pub fn reauth_url(next: &str) -> String {
    with_next(Page::Reauth, next)
}

fn with_next(page: Page, next: &str) -> String {
    format!("{}?{}", page.path(), query_string(&[("next", next)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_has_its_own_path() {
        let mut paths: Vec<_> = Page::ALL.iter().map(|p| p.path()).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), Page::ALL.len());
        assert!(paths.iter().all(|p| p.starts_with('/')));
    }

    #[test]
    fn a_page_and_everything_under_it_share_its_rule() {
        assert_eq!(Page::governing("/admin/audit"), Page::AuditLog);
        assert_eq!(Page::governing("/admin/audit/x"), Page::AuditLog);
        assert_eq!(Page::governing("/admin/other"), Page::Accounts);
        assert_eq!(Page::governing("/dashboard/"), Page::Dashboard);
        assert_eq!(Page::governing("/dashboards"), Page::Home);
        assert_eq!(Page::governing("/no-such-page"), Page::Home);
        assert_eq!(Page::governing("/"), Page::Home);
        assert_eq!(Page::governing("/reauth"), Page::Reauth);
    }

    #[test]
    fn the_rule_asks_for_what_is_missing() {
        let fresh = || true;
        let stale = || false;
        assert_eq!(Rule::ANYONE.check(None, stale), Ok(()));
        assert_eq!(Rule::SIGNED_IN.check(None, fresh), Err(Refusal::SignIn));
        assert_eq!(Rule::SIGNED_IN.check(Some(Viewer::plain(Role::User)), stale), Ok(()));
        assert_eq!(Rule::RECENT_SIGN_IN.check(Some(Viewer::plain(Role::User)), stale), Err(Refusal::Reauthenticate));
        assert_eq!(Rule::RECENT_SIGN_IN.check(Some(Viewer::plain(Role::User)), fresh), Ok(()));
        assert_eq!(Rule::ADMIN.check(None, fresh), Err(Refusal::SignIn));
        // A person who may never see it is not sent to confirm a password first.
        assert_eq!(Rule::ADMIN.check(Some(Viewer::plain(Role::User)), stale), Err(Refusal::Forbidden));
        assert_eq!(Rule::ADMIN.check(Some(Viewer::plain(Role::Admin)), stale), Err(Refusal::Reauthenticate));
        assert_eq!(Rule::ADMIN.check(Some(Viewer::plain(Role::Admin)), fresh), Ok(()));
    }

    #[test]
    fn a_person_who_owes_a_second_factor_reaches_only_the_way_to_set_one_up() {
        let owing = |role| Some(Viewer { role, owes_second_factor: true });
        let fresh = || true;
        for page in Page::ALL {
            let answer = page.rule().check(owing(Role::Admin), fresh);
            let open = [Page::TwoStep, Page::Reauth].contains(page) || page.rule() == Rule::ANYONE;
            assert_eq!(answer.is_ok(), open, "{page:?}");
            if !open {
                assert_eq!(answer, Err(Refusal::SetUpSecondFactor), "{page:?}");
            }
        }
        // Not an administrator: still forbidden first, as for anyone.
        assert_eq!(Rule::ADMIN.check(owing(Role::User), fresh), Err(Refusal::Forbidden));
        assert_eq!(Rule::SETUP.check(owing(Role::User), || false), Err(Refusal::Reauthenticate));
    }

    #[test]
    fn the_admin_area_needs_the_admin_role_and_a_recent_sign_in() {
        assert_eq!(Page::Accounts.rule(), Rule::ADMIN);
        assert_eq!(Page::AuditLog.rule(), Rule::ADMIN);
        assert!(Page::Account.rule().fresh);
        assert!(!Page::Dashboard.rule().fresh);
        assert_eq!(Page::Reauth.rule(), Rule::CONFIRM);
    }

    #[test]
    fn ways_back_carry_the_page_asked_for() {
        assert_eq!(sign_in_url("/dashboard"), "/login?next=%2Fdashboard");
        assert_eq!(reauth_url("/admin?page=2"), "/reauth?next=%2Fadmin%3Fpage%3D2");
    }
}
