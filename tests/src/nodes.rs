//! Several server nodes over one store (#17), for the client's move between
//! nodes: [`HarnessRef::start_nodes`] starts in-process servers on free port
//! offsets of their own, all sharing the harness server's store (that
//! server keeps running, owns the store, and serves no browser of these
//! nodes), and a web server of their own whose `penpen.json` lists them, so
//! only a browser loaded from [`Nodes::app_url`] knows them.
//!
//! There is no bus between these nodes: a push reaches only the sessions of
//! the node that stored the message, and the others find it when they catch
//! up (after every reconnect). A test that needs live delivery makes sure
//! both people are on the same node.

use crate::static_files::{Site, StaticServer};
use crate::{HarnessRef, enable_server_tls, free_offset_candidate, now_nanos};
use anyhow::Context as _;
use penpen_core::Service;
use penpen_server_mock::{PortPlan, RunningServer};

/// Server nodes sharing one store, and the web server that lists them.
#[derive(Debug)]
pub struct Nodes {
    /// Each node's port offset and, while it runs, the node.
    nodes: Vec<(u16, Option<RunningServer>)>,
    web: StaticServer,
    app_url: String,
}

impl HarnessRef {
    /// Starts `count` nodes over the harness server's store, and a web
    /// server whose `penpen.json` lists them in order.
    pub async fn start_nodes(&self, count: usize) -> anyhow::Result<Nodes> {
        let store = self
            .server
            .lock()
            .await
            .as_ref()
            .map(RunningServer::store)
            .context("the harness server is stopped: its store is what the nodes share")?;
        let seed = std::process::id() as u64 ^ now_nanos() ^ 0x5eed;
        let mut nodes = Vec::new();
        let mut attempt = 0;
        while nodes.len() < count {
            anyhow::ensure!(attempt < 80, "no free port offset for node {}", nodes.len());
            let offset = free_offset_candidate(seed, attempt);
            attempt += 1;
            if offset == self.port_offset || nodes.iter().any(|(o, _)| *o == offset) {
                continue;
            }
            let mut config = self.server_config();
            config.ports = PortPlan::Offset(offset);
            if let Some(tls) = &self.tls {
                enable_server_tls(&mut config, tls)?;
            }
            if let Ok(node) = RunningServer::start_sharing(config, store.clone()).await {
                nodes.push((offset, Some(node)));
            }
        }
        let mut site: Site = self.site.clone();
        let tls = site.tls.is_some();
        let listed: Vec<serde_json::Value> = nodes
            .iter()
            .map(|(offset, _)| serde_json::json!({"host": "127.0.0.1", "port_offset": offset}))
            .collect();
        site.generated = [(
            "penpen.json".to_owned(),
            serde_json::json!({"servers": listed, "tls": tls})
                .to_string()
                .into_bytes(),
        )]
        .into();
        let web = StaticServer::start(site).await?;
        let app_url = format!("{}://{}/", web.scheme(), web.addr());
        Ok(Nodes {
            nodes,
            web,
            app_url,
        })
    }

    /// Opens a new, independent browser on the app that lists `nodes`.
    pub async fn open_app_on(&self, nodes: &Nodes, name: &str) -> anyhow::Result<crate::Browser> {
        let browser = self.open_browser(name).await?;
        browser.goto(nodes.app_url()).await?;
        Ok(browser)
    }
}

impl Nodes {
    /// The app's URL, served with a `penpen.json` listing the nodes.
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `index` as the app names it (`#connection[data-node]`): its
    /// host and login port.
    pub fn label(&self, index: usize) -> String {
        let offset = self.nodes[index].0;
        let port = Service::Login
            .port_with_offset(offset)
            .unwrap_or_else(|| Service::Login.port());
        format!("127.0.0.1:{port}")
    }

    /// The node the app names `label`, if it is one of these.
    pub fn index_of(&self, label: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|index| self.label(*index) == label)
    }

    /// Stops node `index` (every connection to it drops, nothing connects
    /// until the test ends); the store and the other nodes go on.
    pub async fn kill(&mut self, index: usize) {
        if let Some(node) = self.nodes[index].1.take() {
            node.shutdown().await;
        }
    }

    /// Stops every node and the web server.
    pub async fn stop(mut self) {
        for index in 0..self.nodes.len() {
            self.kill(index).await;
        }
        self.web.stop().await;
    }
}
