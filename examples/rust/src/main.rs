//! The complete log setup: create a log with 10 partitions, write 1,000
//! keyed events, read 100 back, print the log's metadata and stats.
//!
//! Run: `quickstart [HOST:PORT] [CA_FILE]` against a running server.

use pyralog::{Client, ClientConfig, LogOffset, ProducerConfig, Record};

#[tokio::main]
async fn main() -> pyralog::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let ca = args.next().unwrap_or_else(|| "pyralog-data/tls/ca.pem".into());
    // readme:start
    let client = Client::connect(&addr, ClientConfig::with_ca_file(ca)).await?;
    if client.log_exists("user_events").await? {
        client.delete_log("user_events").await?; // a re-run starts empty
    }
    client.create_log("user_events", 10).await?;
    let producer = client.producer(ProducerConfig::default())?;
    let events = (0..1000).map(|i| Record::new(format!("event-{i}")).key(format!("user-{}", i % 100)));
    for delivery in producer.send_batch("user_events", events).await? {
        delivery.await?; // acknowledged: written and durable
    }
    let records = client.consume("user_events", LogOffset::ZERO, 100).await?;
    // readme:end

    for r in records.iter().take(5) {
        let key = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default());
        println!("partition {} offset {}: {} = {}", r.partition, r.offset, key, String::from_utf8_lossy(&r.value));
    }
    println!("read {} records back", records.len());

    let md = client.get_log_metadata("user_events").await?;
    println!("log {}: {} partitions, state {:?}", md.name, md.partition_count, md.state);
    let stats = client.get_log_stats("user_events").await?;
    println!("stats: {} records, {} bytes", stats.record_count, stats.size_bytes);
    producer.close().await?;
    client.close().await;
    Ok(())
}
