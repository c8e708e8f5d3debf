//! `beatstream search reindex`: rebuild the search index from the catalog.
//!
//! A running server owns the index folder: the command then asks it (through the search
//! database) and waits; the server keeps answering from the old index until the new one is
//! ready. With no server running, the command rebuilds the index itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use beatstream_config::Config;
use beatstream_search::index::IndexError;
use beatstream_search::{SearchError, SearchService, SearchStore};

use crate::wiring;

/// How long to wait for a running server's rebuild.
const WAIT_FOR_SERVER: Duration = Duration::from_secs(30 * 60);

pub async fn reindex(config: &Config) -> anyhow::Result<()> {
    let (db, _) = wiring::open_service_db(
        config,
        beatstream_search::SERVICE,
        &beatstream_search::MIGRATIONS,
    )
    .await?;
    let store = SearchStore::new(db.clone());
    let (catalog, catalog_db, _) = wiring::open_catalog(config).await?;
    let started = Instant::now();
    let opened = SearchService::open(
        store.clone(),
        wiring::search_dir(config),
        Arc::new(wiring::LocalCatalog(catalog)),
    );
    let documents = match opened {
        Ok(search) => {
            println!("Rebuilding the search index...");
            search
                .rebuild()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("rebuilding the search index")?
        }
        Err(SearchError::Index(IndexError::Busy)) => {
            println!("A server holds the search index: asking it to rebuild...");
            ask_server(&store).await?
        }
        Err(e) => return Err(anyhow::anyhow!("opening the search index: {e}")),
    };
    println!(
        "Indexed {documents} entries in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    catalog_db.close().await;
    db.close().await;
    Ok(())
}

async fn ask_server(store: &SearchStore) -> anyhow::Result<u64> {
    let id = uuid::Uuid::now_v7().to_string();
    store
        .request_reindex(&id)
        .await
        .context("asking for a rebuild")?;
    let deadline = Instant::now() + WAIT_FOR_SERVER;
    while Instant::now() < deadline {
        if let Some(documents) = store
            .reindex_result(&id)
            .await
            .context("waiting for the rebuild")?
        {
            return Ok(documents);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!(
        "the server has not finished the rebuild after {} minutes; it goes on, see GET /api/v1/admin/search",
        WAIT_FOR_SERVER.as_secs() / 60
    )
}
