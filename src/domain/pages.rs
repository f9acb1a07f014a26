//! Which pages need a signed-in person, which role and how recent a
//! sign-in. The server's page guard reads this table before rendering.

use super::Role;

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
