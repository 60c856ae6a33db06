//! Bulk seeding of a generated population straight into a migrated store's tables: multi-row
//! inserts in one transaction per chunk of users, explicit memory ids, vectors from the real
//! embedder in large batches. Seeding 100,000 users through HTTP would take hours; this takes
//! minutes and writes exactly the rows the store itself writes (same columns, encrypted content,
//! keyed fingerprints, lexical tokens, decay rates, vector encoding), so the store's triggers and
//! indexes see the real data. Call episodes are memories of kind `episode`, as the
//! extraction worker writes them. User summaries are written in plaintext (the store reads them as
//! values from before encryption).

use std::time::Instant;

use memvox_ai::Embedder;
use memvox_core::episode::spoken_text;
use memvox_core::{MemoryKind, Sector};
use memvox_crypto::Keyring;
use memvox_store::{EPISODE_SALIENCE, LexicalKey, sealed_caller, sealed_memory_content};
use sqlx::{PgPool, SqlitePool};

use crate::population::{GeneratedUser, Shape, user};

/// Users generated, embedded and written per transaction.
const CHUNK_USERS: usize = 1_000;
/// Bound parameters per PostgreSQL statement (its limit is 65,535).
const POSTGRES_PARAMS: usize = 30_000;
/// Bound parameters per SQLite statement: sqlx looks every parameter's name up among all of the
/// statement's, so binding cost grows with the square of the count; small statements are fastest.
const SQLITE_PARAMS: usize = 600;

/// The database being seeded.
pub enum Db {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL schema.
    Postgres(PgPool),
}

/// One bound value.
enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    OptText(Option<String>),
    OptInt(Option<i64>),
    Vector(Vec<f32>),
}

/// What was written.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Seeded {
    /// Users.
    pub users: usize,
    /// Memories: facts (each with a vector).
    pub memories: usize,
    /// Episodes (each with a vector).
    pub episodes: usize,
    /// Memory links.
    pub links: usize,
    /// Seconds spent.
    pub seconds: f64,
}

/// Writes the population of `shape` (seeded with `seed`) and logs progress to stderr.
pub async fn seed(
    db: &Db,
    embedder: &dyn Embedder,
    shape: &Shape,
    seed: u64,
    now: i64,
    keyring: &Keyring,
) -> anyhow::Result<Seeded> {
    let lexical = LexicalKey::for_keyring(keyring);
    let started = Instant::now();
    let mut seeded = Seeded::default();
    let mut next_id: i64 = 1;
    let model = embedder.model_id().to_owned();
    let mut start = 0;
    while start < shape.users {
        let end = (start + CHUNK_USERS).min(shape.users);
        let users: Vec<GeneratedUser> = (start..end).map(|i| user(shape, seed, i, now)).collect();
        // In the order `rows` takes them: each user's facts, then their episodes (embedded
        // as the embedding worker does: the searched turns without speaker labels).
        let texts: Vec<String> = users
            .iter()
            .flat_map(|u| {
                let facts = u.memories.iter().map(|m| m.content.clone());
                facts.chain(u.episodes.iter().map(|e| spoken_text(&e.content)))
            })
            .collect();
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(8_192) {
            let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
            vectors.extend(embedder.embed(&batch).await?);
        }
        let tables = rows(
            &users,
            vectors,
            &model,
            &mut next_id,
            now,
            keyring,
            &lexical,
        )?;
        seeded.users += users.len();
        seeded.memories += tables.memories.len();
        seeded.episodes += tables.episodes.len();
        seeded.links += tables.links.len();
        write(db, tables).await?;
        start = end;
        if start % (CHUNK_USERS * 10) == 0 || start == shape.users {
            let elapsed = started.elapsed().as_secs_f64();
            eprintln!(
                "seeded {} / {} users, {} memories, {} episodes, {} links in {elapsed:.1} s \
                 ({:.0} rows/s)",
                seeded.users,
                shape.users,
                seeded.memories,
                seeded.episodes,
                seeded.links,
                (seeded.memories + seeded.episodes) as f64 / elapsed.max(1e-9)
            );
        }
    }
    finish(db).await?;
    seeded.seconds = started.elapsed().as_secs_f64();
    Ok(seeded)
}

/// Rows of each table for one chunk.
struct Tables {
    users: Vec<Vec<Value>>,
    callers: Vec<Vec<Value>>,
    memories: Vec<Vec<Value>>,
    episodes: Vec<Vec<Value>>,
    terms: Vec<Vec<Value>>,
    embeddings: Vec<Vec<Value>>,
    links: Vec<Vec<Value>>,
}

fn rows(
    users: &[GeneratedUser],
    vectors: Vec<Vec<f32>>,
    model: &str,
    next_id: &mut i64,
    now: i64,
    keyring: &Keyring,
    lexical: &LexicalKey,
) -> anyhow::Result<Tables> {
    let mut tables = Tables {
        users: Vec::with_capacity(users.len()),
        callers: Vec::with_capacity(users.len()),
        memories: Vec::with_capacity(vectors.len()),
        episodes: Vec::new(),
        terms: Vec::with_capacity(vectors.len()),
        embeddings: Vec::with_capacity(vectors.len()),
        links: Vec::new(),
    };
    let mut vectors = vectors.into_iter();
    for user in users {
        tables.users.push(vec![
            Value::Text(user.user_id.clone()),
            Value::OptText(user.display_name.clone()),
            Value::OptText(user.summary.clone()),
            Value::OptInt(user.last_interaction),
            Value::Int(user.created_at),
        ]);
        let (number_index, sealed_number) = sealed_caller(keyring, &user.phone, &user.user_id)?;
        tables.callers.push(vec![
            Value::Text(number_index),
            Value::Text(sealed_number),
            Value::Text(user.user_id.clone()),
            Value::Int(user.created_at),
        ]);
        for (position, memory) in user.memories.iter().enumerate() {
            let id = *next_id;
            *next_id += 1;
            tables.memories.push(memory_row(
                keyring,
                (id, &user.user_id),
                &memory.content,
                (MemoryKind::Fact, memory.sector, memory.salience),
                (memory.last_seen_at, memory.created_at, memory.created_at),
                None,
            )?);
            push_index_rows(
                &mut tables,
                &mut vectors,
                model,
                (id, &user.user_id),
                &memory.content,
                memory.created_at,
                lexical,
            );
            if position % 4 == 3 {
                tables.links.push(vec![
                    Value::Int(id),
                    Value::Int(id - 1),
                    Value::Float(0.5),
                    Value::Int(now),
                    Value::Int(now),
                ]);
            }
        }
        for episode in &user.episodes {
            let id = *next_id;
            *next_id += 1;
            let source = (
                episode.conversation_id.clone(),
                serde_json::json!(episode.turn_indexes).to_string(),
            );
            tables.episodes.push(memory_row(
                keyring,
                (id, &user.user_id),
                &episode.content,
                (MemoryKind::Episode, Sector::Episodic, EPISODE_SALIENCE),
                (episode.said_at, episode.said_at, now),
                Some(source),
            )?);
            push_index_rows(
                &mut tables,
                &mut vectors,
                model,
                (id, &user.user_id),
                &episode.content,
                episode.said_at,
                lexical,
            );
        }
    }
    Ok(tables)
}

/// The `memories` row of memory `id` of `user_id`: its content sealed and fingerprinted as the
/// store does, `(kind, sector, salience)`, `(last seen, created, updated)` times and, for an
/// episode, its `(conversation id, JSON turn list)`.
fn memory_row(
    keyring: &Keyring,
    (id, user_id): (i64, &str),
    content: &str,
    (kind, sector, salience): (MemoryKind, Sector, f64),
    (last_seen_at, created_at, updated_at): (i64, i64, i64),
    source: Option<(String, String)>,
) -> anyhow::Result<Vec<Value>> {
    let (conversation, turns) = source.unzip();
    Ok(vec![
        Value::Int(id),
        Value::Text(user_id.to_owned()),
        Value::Text(sealed_memory_content(keyring, user_id, content)?),
        Value::Text(keyring.fingerprint(content)),
        Value::Text(kind.as_str().to_owned()),
        Value::Text(sector.as_str().to_owned()),
        Value::Float(salience),
        Value::Float(sector.default_decay_per_day()),
        Value::Int(last_seen_at),
        Value::OptText(conversation),
        Value::OptText(turns),
        Value::Int(created_at),
        Value::Int(updated_at),
    ])
}

/// The lexical tokens and the vector row of memory `id` of `user_id`.
fn push_index_rows(
    tables: &mut Tables,
    vectors: &mut impl Iterator<Item = Vec<f32>>,
    model: &str,
    (id, user_id): (i64, &str),
    content: &str,
    at: i64,
    lexical: &LexicalKey,
) {
    tables.terms.push(vec![
        Value::Int(id),
        Value::Text(user_id.to_owned()),
        Value::Text(lexical.memory_terms(user_id, content)),
    ]);
    let vector = vectors.next().unwrap_or_default();
    tables.embeddings.push(vec![
        Value::Int(id),
        Value::Text(user_id.to_owned()),
        Value::Text(model.to_owned()),
        Value::Int(i64::try_from(vector.len()).unwrap_or(i64::MAX)),
        Value::Vector(vector),
        Value::Int(at),
    ]);
}

const USERS: &str =
    "INSERT INTO users (user_id, display_name, summary, last_interaction, created_at) VALUES ";
const CALLERS: &str =
    "INSERT INTO caller_identities (number_index, phone_number, user_id, created_at) VALUES ";
const MEMORIES: &str = "INSERT INTO memories (id, user_id, content, content_fingerprint, kind, \
     sector, salience, decay_per_day, last_seen_at, source_conversation, source_turns, \
     created_at, updated_at) VALUES ";
const TERMS: &str = "INSERT INTO memory_terms (memory_id, user_id, terms) VALUES ";
const EMBEDDINGS: &str = "INSERT INTO memory_embeddings \
     (memory_id, user_id, model, dimension, embedding, created_at) VALUES ";
const LINKS: &str = "INSERT INTO memory_links \
     (source_memory_id, target_memory_id, weight, created_at, updated_at) VALUES ";

async fn write(db: &Db, tables: Tables) -> anyhow::Result<()> {
    let statements = [
        (USERS, tables.users),
        (CALLERS, tables.callers),
        (MEMORIES, tables.memories),
        (MEMORIES, tables.episodes),
        (TERMS, tables.terms),
        (EMBEDDINGS, tables.embeddings),
        (LINKS, tables.links),
    ];
    // One body for both backends: only the placeholder sigil and the vector type differ.
    macro_rules! write_in_one_transaction {
        ($pool:expr, $sigil:expr, $vector:expr) => {{
            let mut tx = $pool.begin().await?;
            for (insert, rows) in statements {
                for (sql, chunk) in statements_for(insert, &rows, $sigil) {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for value in chunk.iter().flatten() {
                        query = match value {
                            Value::Int(v) => query.bind(*v),
                            Value::Float(v) => query.bind(*v),
                            Value::Text(v) => query.bind(v.as_str()),
                            Value::OptText(v) => query.bind(v.as_deref()),
                            Value::OptInt(v) => query.bind(*v),
                            Value::Vector(v) => query.bind($vector(v)),
                        };
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        }};
    }
    match db {
        Db::Sqlite(pool) => write_in_one_transaction!(pool, '?', le_bytes),
        Db::Postgres(pool) => {
            write_in_one_transaction!(pool, '$', |v: &Vec<f32>| pgvector::Vector::from(v.clone()))
        }
    }
    Ok(())
}

/// Multi-row statements for `rows`, numbered `?N` (SQLite) or `$N` (PostgreSQL), each with at
/// most that backend's parameter budget.
fn statements_for<'a>(
    insert: &str,
    rows: &'a [Vec<Value>],
    sigil: char,
) -> Vec<(String, &'a [Vec<Value>])> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Vec::new();
    };
    let budget = if sigil == '?' {
        SQLITE_PARAMS
    } else {
        POSTGRES_PARAMS
    };
    rows.chunks((budget / width).max(1))
        .map(|chunk| (values_sql(insert, chunk.len(), width, sigil), chunk))
        .collect()
}

/// `insert` followed by `count` rows of `width` numbered placeholders.
pub fn values_sql(insert: &str, count: usize, width: usize, sigil: char) -> String {
    let mut sql = String::with_capacity(insert.len() + count * width * 7);
    sql.push_str(insert);
    for row in 0..count {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push(sigil);
            sql.push_str(&(row * width + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

fn le_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Planner statistics (and PostgreSQL's visibility map), and PostgreSQL's id sequence moved
/// past the explicit ids.
async fn finish(db: &Db) -> anyhow::Result<()> {
    eprintln!("analysing tables");
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('memories', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM memories), false)",
            )
            .execute(pool)
            .await?;
            // What autovacuum does to a live database: statistics, and the visibility map that
            // lets counts be answered from an index alone.
            sqlx::query("VACUUM ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(
            values_sql("INSERT INTO t (a, b) VALUES ", 2, 2, '$'),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(values_sql("X ", 1, 3, '?'), "X (?1, ?2, ?3)");
    }

    #[test]
    fn statements_stay_under_the_parameter_limit() {
        let rows: Vec<Vec<Value>> = (0..10_000)
            .map(|i| (0..7).map(|_| Value::Int(i)).collect())
            .collect();
        for (sigil, budget) in [('?', SQLITE_PARAMS), ('$', POSTGRES_PARAMS)] {
            let statements = statements_for("X ", &rows, sigil);
            assert_eq!(statements.iter().map(|s| s.1.len()).sum::<usize>(), 10_000);
            assert!(statements.iter().all(|s| s.1.len() * 7 <= budget));
        }
    }

    #[test]
    fn rows_number_memories_and_link_every_fourth() {
        let shape = Shape {
            users: 2,
            heavy_users: 1,
            heavy_memories: 8,
            episodes_per_fact: 1,
        };
        let users = vec![user(&shape, 1, 0, 1_767_225_645_000)];
        let vectors = vec![vec![0.5_f32; 4]; 16];
        let mut next_id = 10;
        let keyring = Keyring::from_key_set(memvox_crypto::KeySet::generate());
        let lexical = LexicalKey::for_keyring(&keyring);
        let tables = rows(&users, vectors, "m", &mut next_id, 0, &keyring, &lexical).unwrap();
        assert_eq!(next_id, 26);
        assert_eq!(tables.memories.len(), 8);
        assert_eq!(tables.episodes.len(), 8);
        assert_eq!(tables.terms.len(), 16);
        assert_eq!(tables.embeddings.len(), 16);
        assert!(matches!(&tables.episodes[0][4], Value::Text(kind) if kind == "episode"));
        let Value::Text(sealed) = &tables.memories[0][2] else {
            panic!("content is text");
        };
        assert!(sealed.starts_with("mvx1:"), "content is stored encrypted");
        let Value::Text(terms) = &tables.terms[0][2] else {
            panic!("terms are text");
        };
        assert_eq!(
            terms,
            &lexical.memory_terms(&users[0].user_id, &users[0].memories[0].content)
        );
        assert_eq!(tables.links.len(), 2);
        assert!(matches!(
            tables.links[0][..2],
            [Value::Int(13), Value::Int(12)]
        ));
    }
}
