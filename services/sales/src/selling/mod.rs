//! Selling: the sale saga across sales and catalog (quick-sell, new invoices, drafts
//! sold), and the rest of an invoice's life (edits, payment, cancellation, deletion,
//! reprints).
//!
//! The saga of one sale, whose id is the pending row's, the catalog reservation's and the
//! invoice's:
//! 1. a `sales.pending_sales` row is committed (so a crash leaves a trace); with an
//!    `Idempotency-Key`, by the statement that claims the key (and only if it does);
//! 2. catalog reserves the stock for that id (all lines or none) and answers the prices;
//! 3. the totals are computed here, exactly;
//! 4. one transaction deletes the pending row (if the sweeper took it first, the sale is
//!    abandoned), completes the idempotency key, writes the lines and payments, then the
//!    invoice row numbered by the statement that writes it (the gap-free counter is locked
//!    from there to COMMIT, so it comes last), and records the audit events — for all the
//!    sales that reached this step meanwhile at once ([`committer`]);
//! 5. any failure after step 2 releases the reservation (idempotent in catalog) and then
//!    deletes the pending row; when the release cannot be made, the row stays for the
//!    sweeper.

pub(crate) mod committer;
pub(crate) mod idempotency;
pub(crate) mod invoices;
pub(crate) mod messages;
pub(crate) mod saga;
pub(crate) mod sweeper;

use regal_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use tonic::{Request, transport::Channel};

/// How calls to catalog are made on behalf of the caller: their token, request id,
/// address and trace context, copied from the incoming call.
pub(crate) struct Upstream {
    template: Request<()>,
    catalog: CatalogServiceClient<Channel>,
}

impl Upstream {
    pub fn new<T>(incoming: &Request<T>, catalog: CatalogServiceClient<Channel>) -> Self {
        Self {
            template: regal_server::forwarded(incoming, ()),
            catalog,
        }
    }

    pub fn request<T>(&self, message: T) -> Request<T> {
        regal_server::forwarded(&self.template, message)
    }

    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        self.catalog.clone()
    }
}
