//! HTTP routes of the gateway, one module per resource.

pub mod post_call;
