//! `regal`: runs the whole Regal POS suite in one process (`regal serve`, the default), or
//! any one part alone (`regal serve catalog`), as containers do. `regal migrate <part>`
//! applies a service's migrations and exits; `regal healthcheck <part>` asks a running part
//! whether it is healthy (the runtime image's health-check command).

mod healthcheck;

use clap::{Parser, Subcommand, ValueEnum};
use regal_config::Settings;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(name = "regal", version, about = "Regal POS backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one part, or all of them in one process (each on its own port, talking gRPC).
    Serve {
        #[arg(value_enum, default_value_t = Part::All)]
        part: Part,
    },
    /// Apply the migrations of one service, or of all (and create the default admin), then
    /// exit: the migration job of a deployment.
    Migrate {
        #[arg(value_enum, default_value_t = Part::All)]
        part: Part,
    },
    /// Ask a running part on this host whether it is healthy, then exit 0 (SERVING, or 200
    /// from the gateway's `GET /health`) or 1: the health-check command of a container.
    Healthcheck {
        #[arg(value_enum, default_value_t = Part::All)]
        part: Part,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    All,
    Auth,
    Catalog,
    Sales,
    Audit,
    Gateway,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { part: Part::All });
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("regal: configuration error: {error}");
            // A health check answers only healthy (0) or not (1), as container runtimes expect.
            let code = if matches!(command, Command::Healthcheck { .. }) {
                1
            } else {
                2
            };
            std::process::exit(code);
        }
    };
    match command {
        Command::Serve { part } => {
            let result = start(&settings, part)?.block_on(serve(settings, part));
            // Sends the spans still buffered (blocking: the runtime has stopped).
            regal_telemetry::shutdown();
            result
        }
        Command::Migrate { part } => start(&settings, part)?.block_on(migrate(settings, part)),
        Command::Healthcheck { part } => {
            let healthy = healthcheck::run(&settings, &health_targets(&settings, part));
            std::process::exit(if healthy { 0 } else { 1 });
        }
    }
}

/// Logging (and span export) and the multi-threaded runtime of `serve` and `migrate` (a
/// health check needs neither: it prints only its verdict). The span exporter's channel
/// lives in the runtime, so the subscriber is installed inside it.
fn start(settings: &Settings, part: Part) -> anyhow::Result<tokio::runtime::Runtime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    {
        let _runtime = runtime.enter();
        regal_telemetry::init(&settings.telemetry, process_name(part));
    }
    Ok(runtime)
}

/// The OpenTelemetry `service.name` of the process: `regal` when it runs every part (each
/// span then names its part in `regal.service`), else the part's own name.
fn process_name(part: Part) -> &'static str {
    match part {
        Part::All => "regal",
        Part::Auth => "regal-auth",
        Part::Catalog => "regal-catalog",
        Part::Sales => "regal-sales",
        Part::Audit => "regal-audit",
        Part::Gateway => "regal-gateway",
    }
}

/// What `regal healthcheck <part>` asks: each selected service over gRPC health on its port,
/// the gateway over `GET /health`.
fn health_targets(settings: &Settings, part: Part) -> Vec<healthcheck::Target> {
    let network = &settings.network;
    let wants = |candidate: Part| part == Part::All || part == candidate;
    let services = [
        (Part::Auth, "auth", network.auth_port),
        (Part::Catalog, "catalog", network.catalog_port),
        (Part::Sales, "sales", network.sales_port),
        (Part::Audit, "audit", network.audit_port),
    ];
    let mut targets: Vec<healthcheck::Target> = services
        .into_iter()
        .filter(|(candidate, _, _)| wants(*candidate))
        .map(|(_, name, port)| healthcheck::Target::Grpc { name, port })
        .collect();
    if wants(Part::Gateway) {
        targets.push(healthcheck::Target::Http {
            name: "gateway",
            port: network.gateway_port,
        });
    }
    targets
}

async fn serve(settings: Settings, part: Part) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let mut parts = JoinSet::new();
    let wants = |candidate: Part| part == Part::All || part == candidate;

    if wants(Part::Auth) {
        let app = regal_auth::Application::build(settings.clone()).await?;
        parts.spawn(named("auth", app.run_until_stopped(shutdown.clone())));
    }
    if wants(Part::Catalog) {
        let app = regal_catalog::Application::build(settings.clone()).await?;
        parts.spawn(named("catalog", app.run_until_stopped(shutdown.clone())));
    }
    if wants(Part::Sales) {
        let app = regal_sales::Application::build(settings.clone()).await?;
        parts.spawn(named("sales", app.run_until_stopped(shutdown.clone())));
    }
    if wants(Part::Audit) {
        let app = regal_audit::Application::build(settings.clone()).await?;
        parts.spawn(named("audit", app.run_until_stopped(shutdown.clone())));
    }
    if wants(Part::Gateway) {
        let app = regal_gateway::Application::build(settings.clone()).await?;
        parts.spawn(named("gateway", app.run_until_stopped(shutdown.clone())));
    }
    print_banner(&settings, part);

    tokio::select! {
        () = wait_for_signal() => tracing::info!("shutdown signal received"),
        Some(result) = parts.join_next() => report_early_exit(result),
    }
    shutdown.cancel();
    let mut failed = false;
    while let Some(result) = parts.join_next().await {
        failed |= !matches!(result, Ok(Ok(())));
        if let Ok(Err(error)) = result {
            tracing::error!(error = %format!("{error:#}"), "a part failed");
        }
    }
    if failed {
        anyhow::bail!("a part stopped with an error");
    }
    Ok(())
}

async fn migrate(settings: Settings, part: Part) -> anyhow::Result<()> {
    let wants = |candidate: Part| part == Part::All || part == candidate;
    if part == Part::Gateway {
        anyhow::bail!("the gateway owns no schema: nothing to migrate");
    }
    if wants(Part::Auth) {
        regal_auth::migrate(&settings).await?;
    }
    if wants(Part::Catalog) {
        regal_catalog::migrate(&settings).await?;
    }
    if wants(Part::Sales) {
        regal_sales::migrate(&settings).await?;
    }
    if wants(Part::Audit) {
        regal_audit::migrate(&settings).await?;
    }
    tracing::info!("migrations applied");
    Ok(())
}

async fn named(
    name: &'static str,
    run: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    run.await
        .map_err(|error| error.context(format!("{name} failed")))
}

fn report_early_exit(result: Result<anyhow::Result<()>, tokio::task::JoinError>) {
    match result {
        Ok(Ok(())) => tracing::warn!("a part stopped on its own; stopping the others"),
        Ok(Err(error)) => {
            tracing::error!(error = %format!("{error:#}"), "a part failed; stopping the others")
        }
        Err(error) => tracing::error!(error = %error, "a part panicked; stopping the others"),
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "no SIGTERM handler; stopping on Ctrl-C only");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn print_banner(settings: &Settings, part: Part) {
    let network = &settings.network;
    let host = network.host;
    let mut lines = Vec::new();
    if part == Part::All || part == Part::Gateway {
        lines.push(format!(
            "  REST API      http://{host}:{}/",
            network.gateway_port
        ));
        lines.push(format!(
            "  API docs      http://{host}:{}/docs",
            network.gateway_port
        ));
        lines.push(format!(
            "  Dashboard     http://{host}:{}/dashboard",
            network.gateway_port
        ));
        lines.push(format!(
            "  gRPC/gRPC-web {host}:{} (gateway)",
            network.gateway_port
        ));
    }
    for (candidate, name, port) in [
        (Part::Auth, "auth", network.auth_port),
        (Part::Catalog, "catalog", network.catalog_port),
        (Part::Sales, "sales", network.sales_port),
        (Part::Audit, "audit", network.audit_port),
    ] {
        if part == Part::All || part == candidate {
            lines.push(format!("  {name:<13} {host}:{port} (gRPC)"));
        }
    }
    if !settings.is_production() && (part == Part::All || part == Part::Auth) {
        lines.push(format!(
            "  default admin {} / (ADMIN_PASSWORD, default admin123)",
            settings.admin.username
        ));
    }
    println!("Regal POS is starting:\n{}", lines.join("\n"));
}
