//! The soak (issue 10): N minutes of mixed load through the gateway while parts are
//! killed and restarted at random, then the books are checked.
//!
//! [`workload`] is the load (cashiers and a back office), [`client`] the retrying REST
//! client that records every `Idempotency-Key`, [`chaos`] the killer, [`invariants`] the
//! checks. The random seed is printed; giving it back (`--seed`) replays the same
//! choices — which products, quantities, operations, parts, signals and intervals — though
//! not the same interleaving, which the machine's timing decides.

pub mod chaos;
pub mod client;
pub mod invariants;
pub mod workload;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use http::{Method, StatusCode};
use serde_json::json;

use crate::{
    clients::{HttpVersion, Rest},
    load::Rng,
    soak::{
        chaos::{ChaosEvent, ChaosPlan},
        client::{Api, Call, Ledger, Outcome},
        invariants::Check,
        workload::{Cashier, Product, Shared, SoldInvoice, money},
    },
    suite::{Suite, SuiteOptions},
};

/// The settings the parts run with during a soak, on top of the bench's: a sale left
/// pending is released after 15 s (not 60), the sweeper runs every second, and the audit
/// consumer claims entries a killed consumer left after 5 s, so the run settles quickly.
const SOAK_ENVIRONMENT: [(&str, &str); 4] = [
    ("SALES_PENDING_SALE_TIMEOUT_MS", "15000"),
    ("SALES_SWEEP_INTERVAL_MS", "1000"),
    ("AUDIT_CLAIM_IDLE_MS", "5000"),
    ("AUDIT_GAP_CHECK_INTERVAL_MS", "2000"),
];

/// How long a request is retried (with the same key) before the counter gives up.
const RETRY_BUDGET: Duration = Duration::from_secs(60);
/// How long the sweeper, relays and audit consumer get to finish after the load.
const QUIESCENCE_TIMEOUT: Duration = Duration::from_secs(120);
/// Answered keys replayed after the load (every key that was given up is replayed too).
const REPLAYED_ANSWERED_KEYS: usize = 100;

#[derive(Debug, Clone)]
pub struct SoakOptions {
    pub suite: SuiteOptions,
    pub load: Duration,
    pub seed: u64,
    pub cashiers: usize,
    pub products: usize,
    pub opening_stock: i64,
    pub chaos: ChaosPlan,
    pub admin_username: String,
    pub admin_password: String,
    /// `DB_MAX_CONNECTIONS` of each part.
    pub db_connections: u32,
}

/// What a soak found: every check, for the exit code.
pub struct SoakOutcome {
    pub checks: Vec<Check>,
}

impl SoakOutcome {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }
}

pub async fn run(options: SoakOptions) -> anyhow::Result<SoakOutcome> {
    let started = Instant::now();
    println!(
        "regal-soak: seed {} (replay: --seed {}), {:.1} min of load, {} cashiers, {} products, \
         a kill every {}–{} s, regal at {}",
        options.seed,
        options.seed,
        options.load.as_secs_f64() / 60.0,
        options.cashiers,
        options.products,
        options.chaos.gap_min.as_secs(),
        options.chaos.gap_max.as_secs(),
        options.suite.regal_bin.display()
    );
    let mut extra: Vec<(String, String)> = SOAK_ENVIRONMENT
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    extra.push((
        "DB_MAX_CONNECTIONS".to_owned(),
        options.db_connections.to_string(),
    ));
    let mut suite = Suite::start_with(&options.suite, &extra).await?;
    println!(
        "suite ready in {:.1}s: database {}",
        started.elapsed().as_secs_f64(),
        suite.database.name()
    );
    let result = soak(&mut suite, &options).await;
    if let Err(error) = suite.stop().await {
        eprintln!("warning: stopping the suite: {error:#}");
    }
    println!("total {:.0}s", started.elapsed().as_secs_f64());
    result
}

async fn soak(suite: &mut Suite, options: &SoakOptions) -> anyhow::Result<SoakOutcome> {
    let rest = Rest::new(suite.url("gateway"), HttpVersion::Http1);
    let setup_api = Api::new(rest.clone(), RETRY_BUDGET);
    let setup_ledger = Ledger::default();
    let mut seed_rng = Rng::new(options.seed);

    let admin_session = Shared {
        api: setup_api,
        ledger: setup_ledger,
        products: Vec::new(),
        sold: Mutex::new(Vec::new()),
        shifts: Mutex::new(Vec::new()),
        unexpected: Mutex::new(Vec::new()),
        deadline: Instant::now(),
    };
    let (admin_token, _, admin_id) = workload::login(
        &admin_session,
        &options.admin_username,
        &options.admin_password,
    )
    .await
    .context("the admin cannot sign in")?;
    let products = seed_products(&admin_session, &admin_token, options, &mut seed_rng).await?;
    let cashiers = create_cashiers(&admin_session, &admin_token, options.cashiers).await?;
    println!(
        "seeded {} products ({} units each) and {} cashiers",
        products.len(),
        options.opening_stock,
        cashiers.len()
    );

    let load_started = Instant::now();
    let deadline = load_started + options.load;
    let shared = Arc::new(Shared {
        api: Api::new(rest.clone(), RETRY_BUDGET),
        ledger: Ledger::default(),
        products: products.clone(),
        sold: Mutex::new(Vec::new()),
        shifts: Mutex::new(Vec::new()),
        unexpected: Mutex::new(Vec::new()),
        deadline,
    });
    shared.ledger.start_clock(load_started);
    let mut workers = Vec::new();
    for (index, cashier) in cashiers.into_iter().enumerate() {
        let rng = Rng::new(options.seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        workers.push(tokio::spawn(workload::cashier(
            Arc::clone(&shared),
            cashier,
            rng,
        )));
    }
    workers.push(tokio::spawn(workload::back_office(
        Arc::clone(&shared),
        Cashier {
            username: options.admin_username.clone(),
            password: options.admin_password.clone(),
            user_id: admin_id,
        },
        Rng::new(options.seed ^ 0xBAC0_FF1C),
    )));
    println!("load started; chaos:");
    let chaos_rng = Rng::new(options.seed ^ 0xC4A0_5000);
    let chaos = chaos::run(suite, options.chaos, chaos_rng, load_started, deadline).await;
    let events = match chaos {
        Ok(events) => events,
        Err(error) => {
            for worker in &workers {
                worker.abort();
            }
            return Err(error.context("a part did not come back"));
        }
    };
    // The cashiers finish their shift (close the drawer, close the shift).
    let finish_by = Instant::now() + RETRY_BUDGET * 3;
    for worker in workers {
        let left = finish_by.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, worker).await.is_err() {
            anyhow::bail!("a worker did not finish its shift within {RETRY_BUDGET:?}×3");
        }
    }
    let load_seconds = load_started.elapsed().as_secs_f64();
    suite.check_running()?;

    let replayed = replay_keys(&shared, &mut seed_rng).await;

    let mut connection = connect(suite, Duration::from_secs(120)).await?;
    let (waited, left) = invariants::wait_quiescent(&mut connection, QUIESCENCE_TIMEOUT).await?;
    println!(
        "load ran {load_seconds:.0}s; quiescent after {:.1}s (left: {})",
        waited.as_secs_f64(),
        left.iter()
            .map(|(what, count)| format!("{what} {count}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    print_counts(&shared.ledger, &events, &replayed);

    let sold: Vec<SoldInvoice> = shared
        .sold
        .lock()
        .map(|sold| sold.clone())
        .unwrap_or_default();
    let shifts = shared
        .shifts
        .lock()
        .map(|shifts| shifts.clone())
        .unwrap_or_default();
    let keys = shared.ledger.keys();
    let mut checks = vec![
        invariants::stock(&mut connection, &products).await?,
        invariants::acknowledged_sales(&mut connection, &sold).await?,
        invariants::audit(&mut connection).await?,
        audit_chain(&shared.api, &admin_token).await,
        invariants::idempotency(&mut connection, &keys).await?,
        invariants::nothing_pending(&mut connection).await?,
        invariants::drawers(&mut connection, &shifts).await?,
    ];
    let mut answers = Check {
        name: "answers a counter can act on",
        figures: String::new(),
        problems: shared
            .unexpected
            .lock()
            .map(|unexpected| unexpected.clone())
            .unwrap_or_default(),
    };
    // A 500 is never an answer (REST contract), a part killed mid-request included: it
    // must be a 503 the counter retries.
    let internal_errors = shared.ledger.internal_errors();
    answers.problems.extend(
        internal_errors
            .iter()
            .map(|error| format!("500 at {error}")),
    );
    answers.figures = format!(
        "{} answers no counter should get ({} of them 500s; the others a 4xx to a valid \
         request, a sale filed under another shift)",
        answers.problems.len(),
        internal_errors.len()
    );
    checks.push(answers);
    println!();
    for check in &checks {
        check.print();
    }
    print_shutdowns(&events);
    Ok(SoakOutcome { checks })
}

/// A connection to the run's database for the checks, retried while the server is
/// full (a Postgres shared with other runs may refuse new clients for a while).
async fn connect(suite: &Suite, patience: Duration) -> anyhow::Result<sqlx::PgConnection> {
    let started = Instant::now();
    loop {
        match suite.database.connect().await {
            Ok(connection) => return Ok(connection),
            Err(error) if started.elapsed() < patience => {
                eprintln!("the checks cannot connect yet ({error:#}); retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(error) => return Err(error.context("connecting for the checks")),
        }
    }
}

async fn seed_products(
    shared: &Shared,
    token: &str,
    options: &SoakOptions,
    rng: &mut Rng,
) -> anyhow::Result<Vec<Product>> {
    let tax_rates = ["16.00", "8.25", "0.00"];
    let discounts = ["0.00", "0.00", "5.00", "12.50"];
    let run = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut products = Vec::with_capacity(options.products);
    for index in 0..options.products {
        let cents = 99 + rng.below(4_900);
        let body = json!({
            "sku": format!("SOAK-{run}-{index:04}"),
            "name": format!("Soak product {index}"),
            "unit_price": format!("{}.{:02}", cents / 100, cents % 100),
            "cost_price": format!("{}.{:02}", cents / 200, (cents / 2) % 100),
            "tax_rate": rng.pick(&tax_rates),
            "discount": rng.pick(&discounts),
            "stock_level": options.opening_stock,
            "category": "soak",
        });
        let (outcome, _) = shared
            .api
            .send(
                &shared.ledger,
                Call {
                    operation: "product create",
                    method: Method::POST,
                    path: "/products".to_owned(),
                    token: Some(token),
                    body: Some(body),
                    idempotency_key: None,
                },
            )
            .await;
        let id = outcome
            .success()
            .and_then(|product| product["id"].as_str())
            .with_context(|| format!("creating product {index}: {}", outcome.describe()))?;
        products.push(Product {
            id: id.to_owned(),
            opening: options.opening_stock,
        });
    }
    Ok(products)
}

async fn create_cashiers(
    shared: &Shared,
    token: &str,
    count: usize,
) -> anyhow::Result<Vec<Cashier>> {
    let run = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut cashiers = Vec::with_capacity(count);
    for index in 0..count {
        let username = format!("soak-{run}-{index}");
        let password = format!("soak-password-{run}");
        let (outcome, _) = shared
            .api
            .send(
                &shared.ledger,
                Call {
                    operation: "user create",
                    method: Method::POST,
                    path: "/users".to_owned(),
                    token: Some(token),
                    body: Some(json!({
                        "full_name": format!("Soak cashier {index}"),
                        "email": format!("{username}@soak.regalpos.local"),
                        "username": username,
                        "password": password,
                        "role": "cashier",
                    })),
                    idempotency_key: None,
                },
            )
            .await;
        let id = outcome
            .success()
            .and_then(|user| user["id"].as_str())
            .with_context(|| format!("creating cashier {index}: {}", outcome.describe()))?;
        cashiers.push(Cashier {
            username,
            password,
            user_id: id.to_owned(),
        });
    }
    Ok(cashiers)
}

/// What replaying keys after the load found.
#[derive(Debug, Default)]
struct Replayed {
    answered: usize,
    given_up: usize,
    resolved: usize,
}

/// Sends again, with the same key and body, every request the counter gave up on and a
/// sample of the answered ones: an answered key must give back the same id; a given-up
/// key now gets its final answer (the sale it made, or a fresh one).
async fn replay_keys(shared: &Shared, rng: &mut Rng) -> Replayed {
    let mut replayed = Replayed::default();
    let records = shared.ledger.keys();
    let mut chosen: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, record)| record.final_status.is_none())
        .map(|(index, _)| index)
        .collect();
    replayed.given_up = chosen.len();
    let answered: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, record)| record.answered_id.is_some())
        .map(|(index, _)| index)
        .collect();
    for _ in 0..REPLAYED_ANSWERED_KEYS.min(answered.len()) {
        let index = *rng.pick(&answered);
        if !chosen.contains(&index) {
            chosen.push(index);
            replayed.answered += 1;
        }
    }
    for index in chosen {
        let record = &records[index];
        let Some((path, body, token)) = &record.replay else {
            continue;
        };
        let (outcome, _) = shared
            .api
            .send(
                &shared.ledger,
                Call {
                    operation: "replay",
                    method: Method::POST,
                    path: path.clone(),
                    token: Some(token),
                    body: Some(body.clone()),
                    idempotency_key: Some(&record.key),
                },
            )
            .await;
        let mut keys = shared.ledger.keys_mut();
        let Some(stored) = keys.get_mut(index) else {
            continue;
        };
        match &outcome {
            Outcome::Answered { status, body } if status.is_success() => {
                let id = body["id"].as_str().unwrap_or_default().to_owned();
                stored.ids_seen.insert(id.clone());
                if stored.answered_id.is_none() {
                    replayed.resolved += 1;
                    stored.answered_id = Some(id.clone());
                    stored.final_status = Some(status.as_u16());
                    if stored.operation == "sale"
                        && let Ok(mut sold) = shared.sold.lock()
                    {
                        sold.push(SoldInvoice {
                            id,
                            total: money(&body["totals"]["total"]).unwrap_or_default(),
                            lines: Vec::new(),
                        });
                    }
                }
            }
            Outcome::Answered { status, .. } => {
                if stored.answered_id.is_some() {
                    shared.note_unexpected(format!(
                        "replaying {} key {} answered {status} (first {:?})",
                        stored.operation, stored.key, stored.answered_id
                    ));
                } else {
                    stored.final_status = Some(status.as_u16());
                }
            }
            Outcome::GaveUp { .. } => {}
        }
    }
    replayed
}

async fn audit_chain(api: &Api, token: &str) -> Check {
    let mut check = Check {
        name: "audit chain verifies",
        figures: String::new(),
        problems: Vec::new(),
    };
    let ledger = Ledger::default();
    let (outcome, _) = api
        .send(
            &ledger,
            Call {
                operation: "audit verify",
                method: Method::GET,
                path: "/audit/verify".to_owned(),
                token: Some(token),
                body: None,
                idempotency_key: None,
            },
        )
        .await;
    match &outcome {
        Outcome::Answered { status, body } if *status == StatusCode::OK => {
            check.figures = format!("GET /audit/verify: {body}");
            if body["ok"] != json!(true) {
                check
                    .problems
                    .push(format!("the chain breaks at {}", body["first_bad_id"]));
            }
        }
        _ => check
            .problems
            .push(format!("GET /audit/verify: {}", outcome.describe())),
    }
    check
}

fn print_counts(ledger: &Ledger, events: &[ChaosEvent], replayed: &Replayed) {
    println!(
        "{} kills ({} SIGKILL, {} SIGTERM); replayed {} given-up keys ({} resolved) and {} \
         answered ones",
        events.len(),
        events.iter().filter(|event| event.signal == "KILL").count(),
        events.iter().filter(|event| event.signal == "TERM").count(),
        replayed.given_up,
        replayed.resolved,
        replayed.answered
    );
    println!("requests by operation (final answers, and attempts retried):");
    for (operation, outcomes) in ledger.counts() {
        println!(
            "  {operation:<18} {}",
            outcomes
                .iter()
                .map(|(outcome, count)| format!("{outcome} {count}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Graceful shutdown is the parts' business (libs/server), not an invariant of the
/// books: reported, not failed on.
fn print_shutdowns(events: &[ChaosEvent]) {
    let terms: Vec<&ChaosEvent> = events
        .iter()
        .filter(|event| event.signal == "TERM")
        .collect();
    let clean = terms
        .iter()
        .filter(|event| event.graceful == Some(true))
        .count();
    let slowest = terms
        .iter()
        .map(|event| event.exit_after.as_secs_f64())
        .fold(0.0, f64::max);
    println!(
        "NOTE graceful shutdown: {clean} of {} SIGTERMs exited 0 (slowest {slowest:.1}s)",
        terms.len()
    );
    for event in terms.iter().filter(|event| event.graceful != Some(true)) {
        println!("       {event}");
    }
}

/// The default seed: the clock's nanoseconds.
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0x5EED)
}

/// Where the soak's part logs go unless told.
pub fn default_log_dir() -> PathBuf {
    PathBuf::from("target/soak/logs")
}
