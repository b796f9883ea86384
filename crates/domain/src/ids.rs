//! Identifier newtypes: an ID of one entity can never be passed where another's is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw database key.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Identifies a user account (customer or staff).
    UserId
);
id_type!(
    /// Identifies a product in the catalog.
    ProductId
);
id_type!(
    /// Identifies an order.
    OrderId
);
id_type!(
    /// Identifies one line of a customer's cart.
    CartLineId
);
id_type!(
    /// Identifies a payment (one card authorisation and what became of it).
    PaymentId
);
id_type!(
    /// Identifies one entry of the store-credit ledger.
    CreditEntryId
);
id_type!(
    /// Identifies a flash sale.
    SaleId
);
id_type!(
    /// Identifies a reservation: units of a flash sale held for one customer until paid.
    ReservationId
);
id_type!(
    /// Identifies one line of an order (a product bought at a price, in some quantity).
    OrderLineId
);
id_type!(
    /// Identifies a return (RMA: return merchandise authorisation).
    RmaId
);
