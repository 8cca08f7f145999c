//! The mixed load of the soak, through the gateway's REST API with real JWTs: cashiers
//! (each their own user) cycling through login, drawer open, quick-sells and invoices of
//! 1–5 random lines in random order, refunds of random lines of sold invoices, pay-ins,
//! pay-outs, token refreshes, X-reports, then drawer close and shift close; and a back
//! office (the admin) changing prices, receiving stock and adjusting it.
//!
//! Every cash effect the API acknowledged is tracked per shift, so the server's expected
//! cash can be compared with what the counter saw; a shift in which some request's
//! outcome stayed unknown is marked uncertain and only compared on the server side.

use std::{
    collections::BTreeMap,
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use http::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    load::Rng,
    soak::client::{Api, Call, KeyRecord, Ledger, Outcome},
};

/// A product the soak seeded: its id and opening stock.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub opening: i64,
}

/// A sale the API acknowledged (2xx): what the counter believes was sold.
#[derive(Debug, Clone)]
pub struct SoldInvoice {
    pub id: String,
    pub total: Decimal,
    /// (product id, quantity) as the answer listed them.
    pub lines: Vec<(String, i64)>,
}

/// One shift as the counter saw it.
#[derive(Debug, Clone)]
pub struct ShiftRecord {
    pub shift_id: String,
    pub cashier: String,
    /// Opening float + acknowledged cash effects.
    pub client_expected: Decimal,
    /// False when some request of the shift ended without a known outcome.
    pub certain: bool,
    /// The expected cash the close (drawer close or Z-report) answered with.
    pub server_expected: Option<Decimal>,
    /// X-reports taken during the shift whose expected cash differed from the counter's.
    pub x_report_mismatches: Vec<String>,
}

/// What the workers share.
pub struct Shared {
    pub api: Api,
    pub ledger: Ledger,
    pub products: Vec<Product>,
    pub sold: Mutex<Vec<SoldInvoice>>,
    pub shifts: Mutex<Vec<ShiftRecord>>,
    /// Answers no counter should ever get (a 500, a 422 for a valid request, ...).
    pub unexpected: Mutex<Vec<String>>,
    /// The load stops starting new work at this instant.
    pub deadline: Instant,
}

impl Shared {
    pub fn note_unexpected(&self, what: String) {
        if let Ok(mut unexpected) = self.unexpected.lock() {
            unexpected.push(what);
        }
    }
}

/// A cashier's credentials.
#[derive(Debug, Clone)]
pub struct Cashier {
    pub username: String,
    pub password: String,
    pub user_id: String,
}

/// Parses money as the API sends it (a decimal string, or a number).
pub fn money(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => Decimal::from_str(text).ok(),
        Value::Number(number) => Decimal::from_str(&number.to_string()).ok(),
        _ => None,
    }
}

/// `cents` as a two-decimal string.
fn cents_text(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Signs in, retrying until the answer comes or the budget is spent.
pub async fn login(
    shared: &Shared,
    username: &str,
    password: &str,
) -> Option<(String, String, String)> {
    let (outcome, _) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: "login",
                method: Method::POST,
                path: "/auth/login".to_owned(),
                token: None,
                body: Some(json!({"username": username, "password": password})),
                idempotency_key: None,
            },
        )
        .await;
    let body = outcome.success()?;
    let access = body["access_token"].as_str()?.to_owned();
    let refresh = body["refresh_token"].as_str()?.to_owned();
    // The user id is the token's subject.
    let subject = jwt_subject(&access).unwrap_or_default();
    Some((access, refresh, subject))
}

/// The `sub` claim of a JWT (read, not verified: the soak is the token's holder).
fn jwt_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64_url_decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["sub"].as_str().map(str::to_owned)
}

fn base64_url_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0u32;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for character in text.bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// The session of a cashier at the till.
struct Session {
    access: String,
    refresh: String,
}

/// The shift being worked.
struct OpenShift {
    record: ShiftRecord,
}

/// One cashier's loop until the deadline; the last shift is always closed.
pub async fn cashier(shared: Arc<Shared>, cashier: Cashier, mut rng: Rng) {
    while Instant::now() < shared.deadline {
        let Some((access, refresh, _)) = login(&shared, &cashier.username, &cashier.password).await
        else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let mut session = Session { access, refresh };
        let Some(mut shift) = open_drawer(&shared, &cashier, &session, &mut rng).await else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let operations = 8 + rng.below(16);
        for _ in 0..operations {
            if Instant::now() >= shared.deadline {
                break;
            }
            let roll = rng.below(100);
            match roll {
                0..45 => sell(&shared, &cashier, &session, &mut shift, &mut rng, true).await,
                45..65 => sell(&shared, &cashier, &session, &mut shift, &mut rng, false).await,
                65..77 => refund(&shared, &cashier, &session, &mut shift, &mut rng).await,
                77..83 => cash_movement(&shared, &session, &mut shift, &mut rng, "pay-in").await,
                83..89 => cash_movement(&shared, &session, &mut shift, &mut rng, "pay-out").await,
                89..94 => refresh_tokens(&shared, &cashier, &mut session).await,
                _ => x_report(&shared, &session, &mut shift).await,
            }
            tokio::time::sleep(Duration::from_millis(10 + rng.below(40) as u64)).await;
        }
        close(&shared, &session, shift, &mut rng).await;
    }
}

async fn open_drawer(
    shared: &Shared,
    cashier: &Cashier,
    session: &Session,
    rng: &mut Rng,
) -> Option<OpenShift> {
    let float = Decimal::new(10_000 + rng.below(20_000) as i64, 2);
    for _ in 0..3 {
        let (outcome, _) = shared
            .api
            .send(
                &shared.ledger,
                Call {
                    operation: "drawer open",
                    method: Method::POST,
                    path: "/pos/cash-drawer/open".to_owned(),
                    token: Some(&session.access),
                    body: Some(json!({"amount": float.to_string(), "note": "soak"})),
                    idempotency_key: None,
                },
            )
            .await;
        match &outcome {
            Outcome::Answered { status, body } if status.is_success() => {
                return Some(OpenShift {
                    record: ShiftRecord {
                        shift_id: body["shift_id"].as_str().unwrap_or_default().to_owned(),
                        cashier: cashier.username.clone(),
                        client_expected: float,
                        certain: true,
                        server_expected: None,
                        x_report_mismatches: Vec::new(),
                    },
                });
            }
            Outcome::Answered { status, .. } if *status == StatusCode::CONFLICT => {
                // A shift left open: an earlier open whose answer was lost, or a close
                // that gave up. Close it without a count and open a fresh one.
                let (closed, _) = shared
                    .api
                    .send(
                        &shared.ledger,
                        Call {
                            operation: "shift close (left open)",
                            method: Method::POST,
                            path: "/pos/shift-close".to_owned(),
                            token: Some(&session.access),
                            body: Some(json!({})),
                            idempotency_key: None,
                        },
                    )
                    .await;
                if let Some(report) = closed.success() {
                    record_shift(
                        shared,
                        ShiftRecord {
                            shift_id: report["shift_id"].as_str().unwrap_or_default().to_owned(),
                            cashier: cashier.username.clone(),
                            client_expected: Decimal::ZERO,
                            certain: false,
                            server_expected: report.get("expected_cash").and_then(money),
                            x_report_mismatches: Vec::new(),
                        },
                    );
                }
            }
            Outcome::Answered { .. } => {
                shared.note_unexpected(format!("drawer open: {}", outcome.describe()));
                return None;
            }
            Outcome::GaveUp { .. } => return None,
        }
    }
    None
}

fn record_shift(shared: &Shared, record: ShiftRecord) {
    if let Ok(mut shifts) = shared.shifts.lock() {
        shifts.push(record);
    }
}

/// 1–5 distinct random products in random order, 1–3 units each.
fn random_lines(shared: &Shared, rng: &mut Rng) -> Vec<(String, i64)> {
    let count = 1 + rng.below(5);
    let mut picked: Vec<usize> = Vec::with_capacity(count);
    while picked.len() < count.min(shared.products.len()) {
        let index = rng.below(shared.products.len());
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    picked
        .into_iter()
        .map(|index| (shared.products[index].id.clone(), 1 + rng.below(3) as i64))
        .collect()
}

fn lines_json(lines: &[(String, i64)]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|(product_id, quantity)| json!({"product_id": product_id, "quantity": quantity}))
            .collect(),
    )
}

/// The cash an answered invoice leaves in the drawer: cash tendered − change.
fn cash_kept(invoice: &Value) -> Decimal {
    let tendered: Decimal = invoice["payments"]
        .as_array()
        .map(|payments| {
            payments
                .iter()
                .filter(|payment| payment["method"] == "cash")
                .filter_map(|payment| money(&payment["amount"]))
                .sum()
        })
        .unwrap_or_default();
    tendered - money(&invoice["change_due"]).unwrap_or_default()
}

async fn sell(
    shared: &Shared,
    cashier: &Cashier,
    session: &Session,
    shift: &mut OpenShift,
    rng: &mut Rng,
    quick: bool,
) {
    let lines = random_lines(shared, rng);
    let mut body = json!({"items": lines_json(&lines)});
    if rng.below(5) == 0 {
        body["discount"] = json!("0.10");
    }
    let (operation, path) = if quick {
        if rng.below(2) == 0 {
            body["payments"] = json!([{"method": "cash", "amount": "5000.00"}]);
        }
        ("quick-sell", "/pos/quick-sell")
    } else {
        body["payments"] = json!([{"method": "cash", "amount": "5000.00"}]);
        body["status"] = json!("paid");
        ("invoice", "/invoices")
    };
    let key = new_key();
    let (outcome, attempts) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation,
                method: Method::POST,
                path: path.to_owned(),
                token: Some(&session.access),
                body: Some(body.clone()),
                idempotency_key: Some(&key),
            },
        )
        .await;
    let mut record = KeyRecord {
        user_id: cashier.user_id.clone(),
        key,
        operation: "sale",
        answered_id: None,
        ids_seen: Default::default(),
        final_status: outcome.status().map(|status| status.as_u16()),
        attempts,
        replay: Some((path.to_owned(), body, session.access.clone())),
    };
    match &outcome {
        Outcome::Answered { status, body } if status.is_success() => {
            let id = body["id"].as_str().unwrap_or_default().to_owned();
            record.answered_id = Some(id.clone());
            record.ids_seen.insert(id.clone());
            shift.record.client_expected += cash_kept(body);
            if body["shift_id"].as_str() != Some(shift.record.shift_id.as_str()) {
                shared.note_unexpected(format!(
                    "{operation} {id} carries shift {:?}, the cashier's open shift is {}",
                    body["shift_id"], shift.record.shift_id
                ));
            }
            let sold_lines = body["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| {
                            (
                                item["product_id"].as_str().unwrap_or_default().to_owned(),
                                item["quantity"].as_i64().unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            if let Ok(mut sold) = shared.sold.lock() {
                sold.push(SoldInvoice {
                    id,
                    total: money(&body["totals"]["total"]).unwrap_or_default(),
                    lines: sold_lines,
                });
            }
        }
        // Not enough stock: a counter's ordinary refusal.
        Outcome::Answered { status, .. } if *status == StatusCode::CONFLICT => {}
        Outcome::Answered { .. } => {
            shared.note_unexpected(format!("{operation}: {}", outcome.describe()));
        }
        Outcome::GaveUp { .. } => shift.record.certain = false,
    }
    shared.ledger.record_key(record);
}

async fn refund(
    shared: &Shared,
    cashier: &Cashier,
    session: &Session,
    shift: &mut OpenShift,
    rng: &mut Rng,
) {
    let picked = shared
        .sold
        .lock()
        .ok()
        .and_then(|sold| (!sold.is_empty()).then(|| sold[rng.below(sold.len())].clone()));
    let Some(invoice) = picked else { return };
    let mut items: BTreeMap<String, i64> = BTreeMap::new();
    for (product_id, quantity) in &invoice.lines {
        if rng.below(2) == 0 || items.is_empty() {
            *items.entry(product_id.clone()).or_default() +=
                1 + rng.below(*quantity as usize) as i64;
        }
    }
    let lines: Vec<(String, i64)> = items.into_iter().collect();
    let method = if rng.below(10) < 7 { "cash" } else { "card" };
    let body = json!({
        "invoice_id": invoice.id,
        "items": lines_json(&lines),
        "reason": "soak",
        "method": method,
    });
    let key = new_key();
    let (outcome, attempts) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: "refund",
                method: Method::POST,
                path: "/refunds".to_owned(),
                token: Some(&session.access),
                body: Some(body.clone()),
                idempotency_key: Some(&key),
            },
        )
        .await;
    let mut record = KeyRecord {
        user_id: cashier.user_id.clone(),
        key,
        operation: "refund",
        answered_id: None,
        ids_seen: Default::default(),
        final_status: outcome.status().map(|status| status.as_u16()),
        attempts,
        replay: Some(("/refunds".to_owned(), body, session.access.clone())),
    };
    match &outcome {
        Outcome::Answered { status, body } if status.is_success() => {
            let id = body["id"].as_str().unwrap_or_default().to_owned();
            record.answered_id = Some(id.clone());
            record.ids_seen.insert(id);
            if body["method"] == "cash" {
                shift.record.client_expected -= money(&body["amount"]).unwrap_or_default();
            }
        }
        // More than was sold minus what was already refunded.
        Outcome::Answered { status, .. } if *status == StatusCode::CONFLICT => {}
        Outcome::Answered { .. } => {
            shared.note_unexpected(format!("refund: {}", outcome.describe()));
        }
        Outcome::GaveUp { .. } => shift.record.certain = false,
    }
    shared.ledger.record_key(record);
}

async fn cash_movement(
    shared: &Shared,
    session: &Session,
    shift: &mut OpenShift,
    rng: &mut Rng,
    kind: &'static str,
) {
    let amount = Decimal::new(100 + rng.below(1_900) as i64, 2);
    let key = new_key();
    let (outcome, _) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: kind,
                method: Method::POST,
                path: format!("/pos/cash-drawer/{kind}"),
                token: Some(&session.access),
                body: Some(json!({"amount": amount.to_string(), "reason": "soak"})),
                idempotency_key: Some(&key),
            },
        )
        .await;
    match &outcome {
        Outcome::Answered { status, .. } if status.is_success() => {
            if kind == "pay-in" {
                shift.record.client_expected += amount;
            } else {
                shift.record.client_expected -= amount;
            }
        }
        Outcome::Answered { .. } => {
            shared.note_unexpected(format!("{kind}: {}", outcome.describe()));
        }
        // Every retry carried the same Idempotency-Key, but none was answered: whether
        // the first attempt moved the cash stays unknown.
        Outcome::GaveUp { .. } => shift.record.certain = false,
    }
}

async fn refresh_tokens(shared: &Shared, cashier: &Cashier, session: &mut Session) {
    let (outcome, attempts) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: "refresh",
                method: Method::POST,
                path: "/auth/refresh".to_owned(),
                token: None,
                body: Some(json!({"refresh_token": session.refresh})),
                idempotency_key: None,
            },
        )
        .await;
    if let Some(body) = outcome.success()
        && let (Some(access), Some(refresh)) = (
            body["access_token"].as_str(),
            body["refresh_token"].as_str(),
        )
    {
        session.access = access.to_owned();
        session.refresh = refresh.to_owned();
        return;
    }
    if outcome.status() == Some(StatusCode::UNAUTHORIZED) && attempts > 1 {
        // The first attempt rotated the token but its answer was lost: the retry
        // presented a spent token and the family was revoked (reuse detection).
        shared.ledger.count("refresh", "401 after a lost answer");
    } else if outcome.status().is_some() {
        shared.note_unexpected(format!("refresh: {}", outcome.describe()));
    }
    if let Some((access, refresh, _)) = login(shared, &cashier.username, &cashier.password).await {
        session.access = access;
        session.refresh = refresh;
    }
}

async fn x_report(shared: &Shared, session: &Session, shift: &mut OpenShift) {
    let (outcome, _) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: "x-report",
                method: Method::GET,
                path: format!("/pos/shift-report?shift_id={}", shift.record.shift_id),
                token: Some(&session.access),
                body: None,
                idempotency_key: None,
            },
        )
        .await;
    match &outcome {
        Outcome::Answered { status, body } if status.is_success() => {
            let expected = money(&body["expected_cash"]);
            if shift.record.certain && expected != Some(shift.record.client_expected) {
                shift.record.x_report_mismatches.push(format!(
                    "X-report expected {expected:?}, the counter {}",
                    shift.record.client_expected
                ));
            }
        }
        Outcome::Answered { .. } => {
            shared.note_unexpected(format!("x-report: {}", outcome.describe()));
        }
        Outcome::GaveUp { .. } => {}
    }
}

/// Closes the drawer (counting what the counter expects) and the shift: half of the
/// time drawer close then shift close, half a shift close with the count.
async fn close(shared: &Shared, session: &Session, shift: OpenShift, rng: &mut Rng) {
    let mut record = shift.record;
    let counted = if record.certain && record.client_expected >= Decimal::ZERO {
        record.client_expected
    } else {
        Decimal::ZERO
    };
    if rng.below(2) == 0 {
        let (outcome, _) = shared
            .api
            .send(
                &shared.ledger,
                Call {
                    operation: "drawer close",
                    method: Method::POST,
                    path: "/pos/cash-drawer/close".to_owned(),
                    token: Some(&session.access),
                    body: Some(json!({"actual_amount": counted.to_string(), "note": "soak"})),
                    idempotency_key: None,
                },
            )
            .await;
        match &outcome {
            Outcome::Answered { status, body } if status.is_success() => {
                record.server_expected = money(&body["expected_amount"]);
            }
            // Closed by a first attempt whose answer was lost.
            Outcome::Answered { status, .. } if *status == StatusCode::CONFLICT => {}
            Outcome::Answered { .. } => {
                shared.note_unexpected(format!("drawer close: {}", outcome.describe()));
            }
            Outcome::GaveUp { .. } => {}
        }
        let (outcome, _) = shift_close(shared, session, json!({})).await;
        if record.server_expected.is_none()
            && let Some(report) = outcome.success()
        {
            record.server_expected = money(&report["expected_cash"]);
        }
    } else {
        let (outcome, _) = shift_close(
            shared,
            session,
            json!({"actual_amount": counted.to_string()}),
        )
        .await;
        if let Some(report) = outcome.success() {
            record.server_expected = money(&report["expected_cash"]);
        }
    }
    record_shift(shared, record);
}

async fn shift_close(shared: &Shared, session: &Session, body: Value) -> (Outcome, u32) {
    let (outcome, attempts) = shared
        .api
        .send(
            &shared.ledger,
            Call {
                operation: "shift close",
                method: Method::POST,
                path: "/pos/shift-close".to_owned(),
                token: Some(&session.access),
                body: Some(body),
                idempotency_key: None,
            },
        )
        .await;
    if let Outcome::Answered { status, .. } = &outcome
        && !status.is_success()
        && !(*status == StatusCode::CONFLICT && attempts > 1)
    {
        shared.note_unexpected(format!("shift close: {}", outcome.describe()));
    }
    (outcome, attempts)
}

/// The back office until the deadline: price changes, stock receipts and adjustments
/// (each receipt and adjustment with an `Idempotency-Key`), and now and then a login.
pub async fn back_office(shared: Arc<Shared>, admin: Cashier, mut rng: Rng) {
    let Some((mut token, _, _)) = login(&shared, &admin.username, &admin.password).await else {
        shared.note_unexpected("the admin could not sign in".to_owned());
        return;
    };
    while Instant::now() < shared.deadline {
        let product = rng.pick(&shared.products).id.clone();
        match rng.below(100) {
            0..40 => {
                let price = cents_text(99 + rng.below(4_900) as u64);
                let (outcome, _) = shared
                    .api
                    .send(
                        &shared.ledger,
                        Call {
                            operation: "price change",
                            method: Method::PUT,
                            path: format!("/products/{product}"),
                            token: Some(&token),
                            body: Some(json!({"unit_price": price})),
                            idempotency_key: None,
                        },
                    )
                    .await;
                if let Outcome::Answered { status, .. } = &outcome
                    && !status.is_success()
                {
                    shared.note_unexpected(format!("price change: {}", outcome.describe()));
                }
            }
            40..95 => {
                let receipt = rng.below(100) < 65;
                let (kind, qty, reference) = if receipt {
                    ("IN", 10 + rng.below(70) as i64, "soak receipt")
                } else {
                    let size = 1 + rng.below(5) as i64;
                    let signed = if rng.below(2) == 0 { size } else { -size };
                    ("ADJUST", signed, "soak adjustment")
                };
                let body =
                    json!({"product_id": product, "qty": qty, "type": kind, "ref": reference});
                let key = new_key();
                let (outcome, attempts) = shared
                    .api
                    .send(
                        &shared.ledger,
                        Call {
                            operation: if receipt {
                                "stock receipt"
                            } else {
                                "stock adjustment"
                            },
                            method: Method::POST,
                            path: "/stock".to_owned(),
                            token: Some(&token),
                            body: Some(body.clone()),
                            idempotency_key: Some(&key),
                        },
                    )
                    .await;
                let mut record = KeyRecord {
                    user_id: admin.user_id.clone(),
                    key,
                    operation: "stock",
                    answered_id: None,
                    ids_seen: Default::default(),
                    final_status: outcome.status().map(|status| status.as_u16()),
                    attempts,
                    replay: Some(("/stock".to_owned(), body, token.clone())),
                };
                match &outcome {
                    Outcome::Answered { status, body } if status.is_success() => {
                        let id = body["id"].as_str().unwrap_or_default().to_owned();
                        record.answered_id = Some(id.clone());
                        record.ids_seen.insert(id);
                    }
                    // An adjustment that would take the level below zero.
                    Outcome::Answered { status, .. }
                        if *status == StatusCode::CONFLICT && !receipt => {}
                    Outcome::Answered { .. } => {
                        shared.note_unexpected(format!("stock {kind}: {}", outcome.describe()));
                    }
                    Outcome::GaveUp { .. } => {}
                }
                shared.ledger.record_key(record);
            }
            _ => {
                if let Some((access, _, _)) = login(&shared, &admin.username, &admin.password).await
                {
                    token = access;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50 + rng.below(150) as u64)).await;
    }
}
