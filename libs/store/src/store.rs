//! [`Store`], the system of record as one interface: the union of the role traits, each in
//! its own area file, implemented for every backend by a blanket impl. Callers that take a
//! `Store` (or an `Arc<dyn Store>`) call any role's methods; code that needs one role can ask
//! for just that trait.

use async_trait::async_trait;

use crate::{
    BulkLoad, Calls, EmbeddingSpace, Erasure, Events, Extraction, Imports, Invocations, Keys,
    Links, Memories, MemoryEdits, Retention, Search, StoreResult, Users, backend::Backend,
    dialect::query,
};

/// What the store is and whether it answers.
#[async_trait]
pub trait StoreInfo: Send + Sync {
    /// Backend name, `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The model and dimension of the vectors this store holds.
    fn embedding_space(&self) -> &EmbeddingSpace;

    /// Checks that the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> StoreInfo for B {
    fn backend(&self) -> &'static str {
        B::NAME
    }

    fn embedding_space(&self) -> &EmbeddingSpace {
        &self.core().space
    }

    async fn ping(&self) -> StoreResult<()> {
        query::<B::Sql>("SELECT 1")
            .execute(&mut *self.read().await?)
            .await?;
        Ok(())
    }
}

/// Declares trait `$name`, the union of the role traits listed, and implements it for every
/// type that has them all, so the list of roles is written once.
macro_rules! union_of_roles {
    ($(#[$attr:meta])* pub trait $name:ident = $($role:ident),+ $(,)?;) => {
        $(#[$attr])*
        pub trait $name: $($role +)+ {}

        impl<T> $name for T where T: $($role +)+ ?Sized {}
    };
}

union_of_roles! {
    /// The system of record, in domain words: every role of the store in one trait. Every
    /// method that takes a `user_id` and a memory id only ever touches that user's memory:
    /// another user's id reads as not found.
    pub trait Store = StoreInfo, BulkLoad, Users, Events, Memories, MemoryEdits, Search, Links,
        Erasure, Retention, Invocations, Keys, Calls, Extraction, Imports;
}
