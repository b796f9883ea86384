//! Who is asking: the caller of a use case, whatever the channel (HTTP, the worker, an
//! operator's command), and the one permission check every use case goes through.

use crate::UserId;
use crate::account::{Permission, Role};

/// The caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in account, with the role it had when the request was authenticated.
    User {
        /// The account.
        id: UserId,
        /// Its role; use cases that change state check it again inside their transaction.
        role: Role,
    },
    /// The platform itself: the worker, the seed, an operator's command on the server.
    System,
}

/// Why a caller may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Nobody is signed in, and the action needs someone.
    #[error("sign in first")]
    Anonymous,
    /// Signed in, but the role does not grant the permission.
    #[error("your role does not allow this action")]
    Forbidden,
}

impl Caller {
    /// A signed-in account.
    pub fn user(id: UserId, role: Role) -> Caller {
        Caller::User { id, role }
    }

    /// The account behind the caller, if any.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Caller::User { id, .. } => Some(*id),
            Caller::System => None,
        }
    }

    /// Whether the caller may perform `p`. The system may do everything.
    pub fn allows(&self, p: Permission) -> bool {
        match self {
            Caller::User { role, .. } => role.allows(p),
            Caller::System => true,
        }
    }

    /// `Ok` when the caller may perform `p`.
    pub fn require(&self, p: Permission) -> Result<(), Denied> {
        if self.allows(p) { Ok(()) } else { Err(Denied::Forbidden) }
    }

    /// The same caller with the role it has now (read again inside a transaction).
    pub fn with_role(&self, role: Role) -> Caller {
        match self {
            Caller::User { id, .. } => Caller::User { id: *id, role },
            Caller::System => Caller::System,
        }
    }
}

/// A caller that may be nobody (public routes).
pub fn require(caller: Option<&Caller>, p: Permission) -> Result<(), Denied> {
    caller.ok_or(Denied::Anonymous)?.require(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_and_the_system_against_every_permission() {
        for p in Permission::ALL {
            assert!(Caller::System.allows(p), "{p:?}");
            for role in Role::ALL {
                let c = Caller::user(UserId(1), role);
                assert_eq!(c.allows(p), role.allows(p), "{role:?} {p:?}");
                assert_eq!(c.require(p).is_ok(), role.allows(p));
            }
        }
    }

    #[test]
    fn anonymous_callers_are_told_to_sign_in() {
        assert_eq!(require(None, Permission::ManageCatalog), Err(Denied::Anonymous));
        let customer = Caller::user(UserId(2), Role::Customer);
        assert_eq!(require(Some(&customer), Permission::ManageCatalog), Err(Denied::Forbidden));
    }

    #[test]
    fn a_role_read_again_replaces_the_old_one() {
        let c = Caller::user(UserId(3), Role::Admin).with_role(Role::Customer);
        assert_eq!(c, Caller::user(UserId(3), Role::Customer));
        assert_eq!(Caller::System.with_role(Role::Customer), Caller::System);
        assert_eq!(c.user_id(), Some(UserId(3)));
    }
}
