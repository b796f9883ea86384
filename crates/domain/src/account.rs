//! Account rules: email identity, password policy, roles and what each role may do.

use serde::{Deserialize, Serialize};

use crate::validation::{FieldError, bounded_text};

/// A normalised (trimmed, lower-case) email address: the identity of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses an address: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(raw: &str) -> Result<Email, FieldError> {
        let s = raw.trim().to_lowercase();
        let err = |m: &str| FieldError::new("email", m);
        if s.is_empty() {
            return Err(err("must not be empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(err("must be at most 254 characters"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(err("must contain @"));
        };
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || domain.contains('@') || !valid_domain {
            return Err(err("is not a valid email address"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces"));
        }
        Ok(Email(s))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

/// A password that passed the policy; only ever held long enough to hash it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

const WEAK_PASSWORDS: &str = include_str!("weak_passwords.txt");

impl Password {
    /// Shortest accepted password (NIST SP 800-63B).
    pub const MIN_LEN: usize = 8;
    /// Longest accepted password; bounds the hashing cost an attacker can ask for.
    pub const MAX_LEN: usize = 128;

    /// Applies the policy: length, not built from the email, not a known-weak password,
    /// not one repeated character.
    pub fn parse(raw: &str, email: &Email) -> Result<Password, FieldError> {
        let err = |m: &str| FieldError::new("password", m);
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(err("must be at least 8 characters"));
        }
        if n > Self::MAX_LEN {
            return Err(err("must be at most 128 characters"));
        }
        let lower = raw.to_lowercase();
        let local = email.local_part();
        if lower == email.as_str() || (local.chars().count() >= 3 && lower.contains(local)) {
            return Err(err("must not contain your email address"));
        }
        if WEAK_PASSWORDS.lines().any(|w| w.eq_ignore_ascii_case(&lower)) {
            return Err(err("is too common; choose another"));
        }
        let mut chars = raw.chars();
        if let Some(first) = chars.next()
            && chars.all(|c| c == first)
        {
            return Err(err("must not be one repeated character"));
        }
        Ok(Password(raw.to_owned()))
    }

    /// The password bytes, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name shown in the header and to staff.
pub fn display_name(raw: &str) -> Result<String, FieldError> {
    bounded_text("display_name", raw, 1, 80)
}

/// What an account is allowed to do. Registration always yields [`Role::Customer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Buys and returns goods; sees only their own records.
    Customer,
    /// Validates and approves returns.
    Support,
    /// Receives and inspects returned goods.
    Warehouse,
    /// Decides dispositions and processes refunds.
    Finance,
    /// May do every staff action and manage accounts and the catalog.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Customer, Role::Support, Role::Warehouse, Role::Finance, Role::Admin];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Support => "support",
            Role::Warehouse => "warehouse",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(raw: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// Whether this role belongs to staff.
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }

    /// The permission table: whether this role may perform `p`.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match (self, p) {
            (Role::Admin, _) => true,
            (
                _,
                ManageCatalog | ManageUsers | ViewAudit | ManageSales | ManageNotifications | ViewOperations
                | ManagePartners,
            ) => false,
            (_, ViewStockLedger) => self.is_staff(),
            (_, ManageOrders) => matches!(self, Role::Support | Role::Warehouse),
            (_, ViewOrders) => matches!(self, Role::Support | Role::Warehouse | Role::Finance),
            (_, GrantCredit | Reconcile) => self == Role::Finance,
            (_, HandleReturns) => self.is_staff(),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action guarded by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create, edit, deactivate products and adjust stock.
    ManageCatalog,
    /// List accounts and change their roles.
    ManageUsers,
    /// Read the audit log.
    ViewAudit,
    /// Read a product's stock ledger.
    ViewStockLedger,
    /// List and filter every customer's orders; ship, deliver and cancel them.
    ManageOrders,
    /// Read any customer's order and receipt.
    ViewOrders,
    /// Grant store credit and read anyone's store-credit ledger.
    GrantCredit,
    /// Run the payments reconciliation and see payments.
    Reconcile,
    /// Schedule, edit and end flash sales, and watch them live.
    ManageSales,
    /// See every return, its photos and log, the staff queues and the return figures (what
    /// a team may do to a return is the RMA transition table's decision).
    HandleReturns,
    /// See the mail outbox and requeue failed mail.
    ManageNotifications,
    /// Watch the shop live: the monitoring snapshot, SLOs and the recent log events.
    ViewOperations,
    /// Onboard partners, manage their keys, feeds, jobs and schedules.
    ManagePartners,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 13] = [
        Permission::ManageCatalog,
        Permission::ManageUsers,
        Permission::ViewAudit,
        Permission::ViewStockLedger,
        Permission::ManageOrders,
        Permission::ViewOrders,
        Permission::GrantCredit,
        Permission::Reconcile,
        Permission::ManageSales,
        Permission::HandleReturns,
        Permission::ManageNotifications,
        Permission::ViewOperations,
        Permission::ManagePartners,
    ];
}

/// Why a role change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleChangeError {
    /// An admin removing their own admin role would lock the shop out of administration.
    #[error("you cannot remove your own admin role")]
    SelfDemotion,
}

/// Checks that `actor` may move `target` from its current role to `new_role`.
pub fn check_role_change(
    actor: crate::UserId,
    target: crate::UserId,
    new_role: Role,
) -> Result<(), RoleChangeError> {
    if actor == target && new_role != Role::Admin {
        return Err(RoleChangeError::SelfDemotion);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn emails_are_normalised_to_lower_case() {
        assert_eq!(email("  Ann@Example.COM ").as_str(), "ann@example.com");
    }

    #[test]
    fn malformed_emails_are_rejected_with_the_field_named() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "ann@.com",
            "ann@ex..com",
        ] {
            let e = Email::parse(bad).expect_err(bad);
            assert_eq!(e.field, "email", "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn password_policy_rejects_short_long_weak_and_email_based_passwords() {
        let e = email("jonathan@example.com");
        let cases = [
            ("short1!", "at least 8"),
            (&"x".repeat(129) as &str, "at most 128"),
            ("password123", "too common"),
            ("PASSWORD123", "too common"),
            ("jonathan-2026", "email"),
            ("zzzzzzzzzz", "repeated"),
        ];
        for (pw, why) in cases {
            let err = Password::parse(pw, &e).expect_err(pw);
            assert!(err.message.contains(why), "{pw}: {}", err.message);
        }
        assert!(Password::parse("correct horse battery", &e).is_ok());
    }

    #[test]
    fn password_debug_never_prints_the_secret() {
        let p = Password::parse("correct horse battery", &email("a@b.co")).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("superuser"), None);
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn permission_table_is_exhaustive() {
        use Permission::*;
        // (role, permission) pairs that are allowed; everything else is denied.
        let allowed: &[(Role, Permission)] = &[
            (Role::Admin, ManageCatalog),
            (Role::Admin, ManageUsers),
            (Role::Admin, ViewAudit),
            (Role::Admin, ViewStockLedger),
            (Role::Support, ViewStockLedger),
            (Role::Warehouse, ViewStockLedger),
            (Role::Finance, ViewStockLedger),
            (Role::Admin, ManageOrders),
            (Role::Support, ManageOrders),
            (Role::Warehouse, ManageOrders),
            (Role::Admin, ViewOrders),
            (Role::Support, ViewOrders),
            (Role::Warehouse, ViewOrders),
            (Role::Finance, ViewOrders),
            (Role::Admin, GrantCredit),
            (Role::Finance, GrantCredit),
            (Role::Admin, Reconcile),
            (Role::Finance, Reconcile),
            (Role::Admin, ManageSales),
            (Role::Admin, HandleReturns),
            (Role::Admin, ManageNotifications),
            (Role::Admin, ViewOperations),
            (Role::Admin, ManagePartners),
            (Role::Support, HandleReturns),
            (Role::Warehouse, HandleReturns),
            (Role::Finance, HandleReturns),
        ];
        for r in Role::ALL {
            for p in Permission::ALL {
                assert_eq!(r.allows(p), allowed.contains(&(r, p)), "{r:?} {p:?}");
            }
        }
    }

    #[test]
    fn an_admin_cannot_demote_themselves_but_may_demote_others() {
        let me = crate::UserId(1);
        assert_eq!(check_role_change(me, me, Role::Support), Err(RoleChangeError::SelfDemotion));
        assert_eq!(check_role_change(me, me, Role::Admin), Ok(()));
        assert_eq!(check_role_change(me, crate::UserId(2), Role::Customer), Ok(()));
    }
}
