//! Wiring: one short function per role builds that service from the configuration and adds its
//! router, consumers, outbox relay and readiness probe to the process.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use axum::Router;
use beatstream_config::{Config, Role};
use beatstream_core::Authenticator;
use beatstream_db::{Db, DbLocation, Migrations};
use beatstream_events::catalog::TrackSummary;
use beatstream_events::directory::{NoDirectory, TrackDirectory};
use beatstream_events::outbox::OutboxRelay;
use beatstream_events::EventBus;
use beatstream_gateway::Probe;
use beatstream_storage::{BlobStore, S3Options};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;

/// The process, assembled and ready to serve.
pub struct Wired {
    pub router: Router,
    /// Stops the outbox relays, each after a last flush.
    pub stop_relays: CancellationToken,
    pub relays: Vec<JoinHandle<()>>,
    /// Stops the event consumers. Cancel it after the relays ended: on the in-process bus a
    /// relay's flush needs the consumers to acknowledge what it publishes.
    pub stop_consumers: CancellationToken,
    pub consumers: Vec<JoinHandle<()>>,
    pub dbs: Vec<Db>,
    /// Where each piece of state lives, for the start-up message.
    pub locations: Vec<String>,
    /// Where this instance announces itself, when the deployment is split.
    pub discovery: Option<Arc<dyn beatstream_discovery::Discovery>>,
}

struct Context<'a> {
    config: &'a Config,
    bus: Arc<dyn EventBus>,
    stop_consumers: CancellationToken,
    routers: Vec<Router>,
    openapi: utoipa::openapi::OpenApi,
    probes: Vec<Probe>,
    relays: Vec<OutboxRelay>,
    consumers: Vec<JoinHandle<()>>,
    dbs: Vec<Db>,
    locations: Vec<String>,
    authenticator: Option<Arc<dyn Authenticator>>,
    blobs: BlobStore,
    /// The catalog, when this process runs it (roles are wired in order, catalog first).
    catalog: Option<beatstream_catalog::CatalogService>,
}

impl Context<'_> {
    /// The catalog as a track directory: the one in this process, or none yet (split mode
    /// brings a remote one; until then events alone fill read models).
    fn track_directory(&self) -> Arc<dyn TrackDirectory> {
        match &self.catalog {
            Some(catalog) => Arc::new(LocalCatalog(catalog.clone())),
            None => Arc::new(NoDirectory),
        }
    }
}

/// Opens a service's database and applies its migrations.
pub async fn open_service_db(
    config: &Config,
    service: &str,
    migrations: &Migrations,
) -> anyhow::Result<(Db, DbLocation)> {
    let location = DbLocation::for_service(&config.database.url, &config.data_dir, service);
    let db = Db::open(&location, service, config.database.max_connections).await?;
    db.migrate(service, migrations).await?;
    Ok((db, location))
}

/// A service's name and migrations; `None` for the gateway, which has no tables.
fn migrations_of(role: Role) -> Option<(&'static str, &'static Migrations)> {
    Some(match role {
        Role::Gateway => return None,
        Role::Auth => (beatstream_auth::SERVICE, &beatstream_auth::MIGRATIONS),
        Role::Users => (beatstream_users::SERVICE, &beatstream_users::MIGRATIONS),
        Role::Catalog => (beatstream_catalog::SERVICE, &beatstream_catalog::MIGRATIONS),
        Role::Playlists => (
            beatstream_playlists::SERVICE,
            &beatstream_playlists::MIGRATIONS,
        ),
        Role::Search => (beatstream_search::SERVICE, &beatstream_search::MIGRATIONS),
        Role::Recommendations => (
            beatstream_recommend::SERVICE,
            &beatstream_recommend::MIGRATIONS,
        ),
        Role::Realtime => (
            beatstream_realtime::SERVICE,
            &beatstream_realtime::MIGRATIONS,
        ),
    })
}

/// A service's routes, as its OpenAPI document lists them.
fn openapi_of(role: Role) -> utoipa::openapi::OpenApi {
    match role {
        Role::Auth => beatstream_auth::AuthApi::openapi(),
        Role::Users => beatstream_users::UsersApi::openapi(),
        Role::Catalog => beatstream_catalog::CatalogApi::openapi(),
        Role::Playlists => beatstream_playlists::PlaylistsApi::openapi(),
        Role::Search => beatstream_search::SearchApi::openapi(),
        Role::Recommendations => beatstream_recommend::RecommendApi::openapi(),
        Role::Realtime => beatstream_realtime::RealtimeApi::openapi(),
        Role::Gateway => utoipa::openapi::OpenApiBuilder::new().build(),
    }
}

/// `beatstream migrate`.
pub async fn migrate_only(config: &Config) -> anyhow::Result<()> {
    for role in config.roles.iter() {
        let Some((service, migrations)) = migrations_of(role) else {
            continue;
        };
        let (db, location) = open_service_db(config, service, migrations).await?;
        println!("{service}: migrated ({})", location.describe());
        db.close().await;
    }
    Ok(())
}

pub async fn wire(config: &Config) -> anyhow::Result<Wired> {
    // Before anything that counts: the services' start-up work (the first scan, its events, the
    // consumers taking them in) runs while the rest is wired, and what is counted before a
    // recorder exists is lost.
    let metrics = beatstream_gateway::install_recorder();
    let discovery = open_discovery(config).await?;
    if !config.roles.contains(Role::Auth) && discovery.is_none() {
        bail!(
            "roles without `auth` verify tokens with an auth service found through service discovery: \
             set [discovery] url (nats://HOST:PORT or static), or run `auth` in this process too"
        );
    }
    let bus = beatstream_events::connect(&config.events.url, &config.events.namespace)
        .await
        .context("connecting the event bus")?;
    let blobs = open_blobs(config)?;
    let mut ctx = Context {
        config,
        bus: bus.clone(),
        stop_consumers: CancellationToken::new(),
        routers: Vec::new(),
        openapi: utoipa::openapi::OpenApiBuilder::new().build(),
        probes: Vec::new(),
        relays: Vec::new(),
        consumers: Vec::new(),
        dbs: Vec::new(),
        locations: vec![
            format!("events: {} ({})", bus.kind(), config.events.url),
            format!("blobs: {}", blobs.describe()),
            format!("library: {}", describe_libraries(config)),
        ],
        authenticator: None,
        blobs,
        catalog: None,
    };
    let bus_probe = bus.clone();
    ctx.probes.push(Probe {
        name: "event bus".into(),
        check: Arc::new(move || {
            let bus = bus_probe.clone();
            Box::pin(async move { bus.ping().await.map_err(|e| e.to_string()) })
        }),
    });
    for role in config.roles.iter() {
        match role {
            Role::Auth => wire_auth(&mut ctx).await?,
            Role::Users => wire_users(&mut ctx).await?,
            Role::Catalog => wire_catalog(&mut ctx).await?,
            Role::Playlists => wire_playlists(&mut ctx).await?,
            Role::Search => wire_search(&mut ctx).await?,
            Role::Recommendations => wire_recommendations(&mut ctx).await?,
            Role::Realtime => wire_realtime(&mut ctx).await?,
            Role::Gateway => {}
        }
    }
    // Relays start once every consumer has subscribed, so nothing is published to a group that
    // is not listening yet.
    let stop_relays = CancellationToken::new();
    let relays = std::mem::take(&mut ctx.relays)
        .into_iter()
        .map(|relay| tokio::spawn(relay.run(stop_relays.clone())))
        .collect();
    // Without the auth service here, tokens are checked with the keys it publishes.
    let authenticator = match (ctx.authenticator.clone(), &discovery) {
        (Some(local), _) => local,
        (None, Some(discovery)) => Arc::new(beatstream_auth::remote::RemoteVerifier::new(
            discovery.clone(),
        )),
        (None, None) => bail!("no authenticator was wired"),
    };
    if let Some(d) = &discovery {
        ctx.locations.push(format!(
            "discovery: {} ({})",
            d.kind(),
            config.discovery.url
        ));
    }
    let router = beatstream_gateway::app(beatstream_gateway::AppParts {
        services: ctx.routers,
        openapi: ctx.openapi,
        authenticator,
        probes: ctx.probes,
        metrics,
        max_body_bytes: config.http.max_json_body_bytes,
        request_timeout: Duration::from_secs(config.http.request_timeout_secs),
        web_dir: beatstream_gateway::web::locate(&config.http.web_dir),
        discovery: discovery.clone(),
        rate_limit: (
            config.http.rate_limit_per_second,
            config.http.rate_limit_burst,
        ),
        // Every process answers the Subsonic API, on top of the API it serves or forwards.
        facades: vec![Box::new(beatstream_subsonic::router)],
        // With discovery, the routes of services running elsewhere are forwarded to them.
        remote: match &discovery {
            Some(_) => Role::ALL
                .into_iter()
                .filter(|role| role.is_service() && !config.roles.contains(*role))
                .map(|role| beatstream_gateway::proxy::RemoteService {
                    role: role.as_str(),
                    openapi: openapi_of(role),
                })
                .collect(),
            None => Vec::new(),
        },
    });
    Ok(Wired {
        router,
        stop_relays,
        relays,
        stop_consumers: ctx.stop_consumers,
        consumers: ctx.consumers,
        dbs: ctx.dbs,
        locations: ctx.locations,
        discovery,
    })
}

/// Service discovery as configured: none (one process), NATS, or a static list.
async fn open_discovery(
    config: &Config,
) -> anyhow::Result<Option<Arc<dyn beatstream_discovery::Discovery>>> {
    use beatstream_discovery::{Instance, NatsDiscovery, StaticDiscovery};
    let settings = &config.discovery;
    Ok(match settings.url.as_str() {
        "" => None,
        "static" => Some(Arc::new(StaticDiscovery::new(
            settings
                .instances
                .iter()
                .enumerate()
                .map(|(n, i)| Instance {
                    id: format!("static-{n}"),
                    address: i.address.clone(),
                    roles: i.roles.clone(),
                    started_at: 0,
                })
                .collect(),
        ))),
        url => Some(Arc::new(
            NatsDiscovery::connect(
                url,
                &config.events.namespace,
                Duration::from_secs(settings.ttl_secs),
            )
            .await
            .context("connecting service discovery")?,
        )),
    })
}

pub fn open_blobs(config: &Config) -> anyhow::Result<BlobStore> {
    BlobStore::open(
        &config.storage.url,
        &config.default_blob_dir(),
        &S3Options {
            endpoint: config.storage.s3_endpoint.clone(),
            region: config.storage.s3_region.clone(),
        },
    )
    .context("opening blob storage")
}

fn describe_libraries(config: &Config) -> String {
    if config.library.is_empty() {
        return "none configured (--library DIR)".into();
    }
    config
        .library
        .iter()
        .map(|l| l.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalog's settings from the configuration.
pub fn catalog_settings(config: &Config) -> beatstream_catalog::CatalogSettings {
    beatstream_catalog::CatalogSettings {
        libraries: config.library.clone(),
        separators: beatstream_catalog::tags::Separators {
            artists: config.catalog.artist_separators.clone(),
            genres: config.catalog.genre_separators.clone(),
        },
        max_upload_bytes: config.catalog.max_upload_bytes,
        ffmpeg: config.catalog.ffmpeg.clone(),
    }
}

/// Opens the service's database, registers its probe and outbox relay.
async fn service_db(ctx: &mut Context<'_>, role: Role) -> anyhow::Result<(Db, OutboxRelay)> {
    let db = service_db_only(ctx, role).await?;
    let (service, _) = migrations_of(role).context("the gateway has no database")?;
    let relay = OutboxRelay::new(service, db.clone(), ctx.bus.clone());
    Ok((db, relay))
}

/// Opens the database of a service that emits no events, and registers its probe.
async fn service_db_only(ctx: &mut Context<'_>, role: Role) -> anyhow::Result<Db> {
    let (service, migrations) = migrations_of(role).context("the gateway has no database")?;
    let (db, location) = open_service_db(ctx.config, service, migrations).await?;
    ctx.locations
        .push(format!("{service}: {}", location.describe()));
    let probe_db = db.clone();
    ctx.probes.push(Probe {
        name: format!("{service} database"),
        check: Arc::new(move || {
            let db = probe_db.clone();
            Box::pin(async move { db.ping().await.map_err(|e| e.to_string()) })
        }),
    });
    ctx.dbs.push(db.clone());
    Ok(db)
}

async fn wire_auth(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let (db, relay) = service_db(ctx, Role::Auth).await?;
    let auth_config = &ctx.config.auth;
    let settings = beatstream_auth::AuthSettings {
        open_signup: auth_config.open_signup,
        access_token_ttl_secs: auth_config.access_token_ttl_secs,
        refresh_token_ttl_secs: auth_config.refresh_token_ttl_secs,
        login_attempts_per_account_per_minute: auth_config.login_attempts_per_account_per_minute,
        login_attempts_per_address_per_minute: auth_config.login_attempts_per_address_per_minute,
        secrets_key: beatstream_auth::secrets::SecretsKey::load_or_create(&secrets_key_path(
            ctx.config,
        ))
        .map_err(|e| anyhow::anyhow!(e))?,
    };
    let store = beatstream_auth::store::AuthStore::new(db);
    let auth = beatstream_auth::AuthService::new(store, settings, relay.waker())
        .await
        .map_err(|e| anyhow::anyhow!("starting the auth service: {e}"))?;
    let consumers =
        beatstream_auth::spawn_consumers(auth.clone(), ctx.bus.clone(), ctx.stop_consumers.clone())
            .await?;
    ctx.consumers.extend(consumers);
    ctx.relays.push(relay);
    ctx.authenticator = Some(auth.verifier());
    ctx.routers.push(beatstream_auth::router(auth));
    ctx.openapi.merge(beatstream_auth::AuthApi::openapi());
    Ok(())
}

/// Where the key that seals app passwords lives.
fn secrets_key_path(config: &Config) -> std::path::PathBuf {
    match config.auth.secrets_key_file.as_str() {
        "" => config.data_dir.join("secrets.key"),
        path => path.into(),
    }
}

async fn wire_users(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let (db, relay) = service_db(ctx, Role::Users).await?;
    let users =
        beatstream_users::UsersService::new(beatstream_users::UsersStore::new(db), relay.waker());
    let consumers = beatstream_users::spawn_consumers(
        users.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    ctx.relays.push(relay);
    ctx.routers.push(beatstream_users::router(users));
    ctx.openapi.merge(beatstream_users::UsersApi::openapi());
    Ok(())
}

async fn wire_catalog(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let (db, relay) = service_db(ctx, Role::Catalog).await?;
    let catalog = beatstream_catalog::CatalogService::new(
        beatstream_catalog::CatalogStore::new(db),
        ctx.blobs.clone(),
        relay.waker(),
        catalog_settings(ctx.config),
    )
    .await
    .map_err(|e| anyhow::anyhow!("starting the catalog service: {e}"))?;
    ctx.consumers
        .push(catalog.spawn_scan_worker(ctx.stop_consumers.clone()));
    let ffmpeg = ctx.config.catalog.ffmpeg.clone();
    tokio::spawn(async move { beatstream_catalog::transcode::warm_up(&ffmpeg).await });
    if ctx.config.catalog.watch && !ctx.config.library.is_empty() {
        let shutdown = ctx.stop_consumers.clone();
        if let Some(watcher) = beatstream_catalog::watch::spawn_watcher(catalog.clone(), shutdown) {
            ctx.consumers.push(watcher);
        }
    }
    if !ctx.config.library.is_empty() {
        // Every start catches up with what changed while the server was down (incremental).
        catalog.request_scan();
    }
    let consumers = beatstream_catalog::spawn_consumers(
        catalog.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    ctx.relays.push(relay);
    ctx.catalog = Some(catalog.clone());
    ctx.routers.push(beatstream_catalog::router(catalog));
    ctx.openapi.merge(beatstream_catalog::CatalogApi::openapi());
    Ok(())
}

/// The catalog opened directly, for one-off commands; the events it records wait in its outbox
/// for a server to relay them.
pub async fn open_catalog(
    config: &Config,
) -> anyhow::Result<(beatstream_catalog::CatalogService, Db, DbLocation)> {
    let (db, location) = open_service_db(
        config,
        beatstream_catalog::SERVICE,
        &beatstream_catalog::MIGRATIONS,
    )
    .await?;
    let catalog = beatstream_catalog::CatalogService::new(
        beatstream_catalog::CatalogStore::new(db.clone()),
        open_blobs(config)?,
        beatstream_events::outbox::OutboxWaker::default(),
        catalog_settings(config),
    )
    .await
    .map_err(|e| anyhow::anyhow!("opening the catalog: {e}"))?;
    Ok((catalog, db, location))
}

/// The catalog in this process, as other services' track directory.
pub struct LocalCatalog(pub beatstream_catalog::CatalogService);

#[async_trait::async_trait]
impl TrackDirectory for LocalCatalog {
    async fn tracks(&self, ids: &[String]) -> Result<Vec<TrackSummary>, String> {
        self.0
            .track_summaries(Some(ids), "", 0)
            .await
            .map_err(|e| e.to_string())
    }

    async fn page(&self, after: &str, limit: u32) -> Result<Vec<TrackSummary>, String> {
        self.0
            .track_summaries(None, after, limit)
            .await
            .map_err(|e| e.to_string())
    }
}

async fn wire_playlists(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let (db, relay) = service_db(ctx, Role::Playlists).await?;
    let directory = ctx.track_directory();
    let playlists = beatstream_playlists::PlaylistsService::new(
        beatstream_playlists::PlaylistsStore::new(db),
        relay.waker(),
        directory,
    );
    let consumers = beatstream_playlists::spawn_consumers(
        playlists.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    // A catalog older than this service: fill the track read model once, in the background.
    let backfill = playlists.clone();
    ctx.consumers.push(tokio::spawn(async move {
        match backfill.backfill_tracks().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tracks = n, "playlists: filled the track read model from the catalog"),
            Err(e) => tracing::warn!(error = %e, "playlists: could not fill the track read model from the catalog"),
        }
    }));
    ctx.relays.push(relay);
    ctx.routers.push(beatstream_playlists::router(playlists));
    ctx.openapi
        .merge(beatstream_playlists::PlaylistsApi::openapi());
    Ok(())
}

/// Where the search service keeps its index.
pub fn search_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("search")
}

async fn wire_search(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let db = service_db_only(ctx, Role::Search).await?;
    let dir = search_dir(ctx.config);
    ctx.locations
        .push(format!("search index: {}", dir.display()));
    let search = beatstream_search::SearchService::open(
        beatstream_search::SearchStore::new(db),
        dir,
        ctx.track_directory(),
    )
    .map_err(|e| anyhow::anyhow!("starting the search service: {e}"))?;
    let consumers = beatstream_search::spawn_consumers(
        search.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    ctx.consumers
        .push(search.spawn_indexer(ctx.stop_consumers.clone()));
    ctx.routers.push(beatstream_search::router(search));
    ctx.openapi.merge(beatstream_search::SearchApi::openapi());
    Ok(())
}

async fn wire_recommendations(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let db = service_db_only(ctx, Role::Recommendations).await?;
    let recommend = beatstream_recommend::RecommendService::new(
        beatstream_recommend::RecommendStore::new(db),
        beatstream_recommend::RecommendSettings::default(),
    );
    let consumers = beatstream_recommend::spawn_consumers(
        recommend.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    // A catalog older than this service: fill the track read model once, in the background.
    let (backfill, directory) = (recommend.clone(), ctx.track_directory());
    ctx.consumers.push(tokio::spawn(async move {
        match backfill.backfill_tracks(directory.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tracks = n, "recommendations: filled the track read model from the catalog"),
            Err(e) => tracing::warn!(error = %e, "recommendations: could not fill the track read model from the catalog"),
        }
    }));
    ctx.consumers
        .push(recommend.spawn_trainer(ctx.stop_consumers.clone()));
    ctx.routers.push(beatstream_recommend::router(recommend));
    ctx.openapi
        .merge(beatstream_recommend::RecommendApi::openapi());
    Ok(())
}

async fn wire_realtime(ctx: &mut Context<'_>) -> anyhow::Result<()> {
    let db = service_db_only(ctx, Role::Realtime).await?;
    let live =
        beatstream_events::live::connect(&ctx.config.events.url, &ctx.config.events.namespace)
            .await
            .context("connecting the live channel")?;
    let realtime = beatstream_realtime::RealtimeService::new(
        beatstream_realtime::RealtimeStore::new(db),
        live,
        beatstream_realtime::RealtimeSettings {
            hub: beatstream_realtime::hub::HubLimits {
                socket_queue: ctx.config.realtime.socket_queue,
                replay_messages: ctx.config.realtime.replay_messages,
                replay_window: Duration::from_secs(ctx.config.realtime.replay_window_secs),
                ..Default::default()
            },
            ..Default::default()
        },
    );
    ctx.consumers.extend(
        realtime
            .spawn_pump(ctx.stop_consumers.clone())
            .await
            .map_err(|e| anyhow::anyhow!("starting the realtime service: {e}"))?,
    );
    let consumers = beatstream_realtime::spawn_consumers(
        realtime.clone(),
        ctx.bus.clone(),
        ctx.stop_consumers.clone(),
    )
    .await?;
    ctx.consumers.extend(consumers);
    ctx.routers.push(beatstream_realtime::router(realtime));
    ctx.openapi
        .merge(beatstream_realtime::RealtimeApi::openapi());
    Ok(())
}
