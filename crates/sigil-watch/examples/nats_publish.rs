//! Load for `bench/watch.sh`: publishes the lines of a JSON-lines file to a JetStream
//! subject, COPIES times over, creating the stream when missing.
//!
//! `nats_publish HOST:PORT STREAM SUBJECT EVENTS.jsonl COPIES`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, server, stream, subject, events, copies] = &args[..] else {
        eprintln!("usage: nats_publish HOST:PORT STREAM SUBJECT EVENTS.jsonl COPIES");
        std::process::exit(2);
    };
    let copies: usize = copies.parse().unwrap_or(1);
    let lines: Vec<bytes::Bytes> = std::fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| bytes::Bytes::from(l.to_string()))
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = async_nats::connect(server.as_str())
            .await
            .expect("connects");
        let js = async_nats::jetstream::new(client);
        js.get_or_create_stream(async_nats::jetstream::stream::Config {
            name: stream.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .expect("stream");
        let mut acks = Vec::new();
        for _ in 0..copies {
            for line in &lines {
                acks.push(
                    js.publish(subject.clone(), line.clone())
                        .await
                        .expect("publishes"),
                );
                if acks.len() >= 4096 {
                    for a in acks.drain(..) {
                        a.await.expect("stored");
                    }
                }
            }
        }
        for a in acks {
            a.await.expect("stored");
        }
    });
    println!("published {} events", lines.len() * copies);
}
