//! Lua scripts for the two operations that must move an entry between streams atomically.
//!
//! Owns the script texts. Both touch a stream and its dead-letter stream, which share a hash tag
//! (see [`super::KeySpace`]), so they are valid on Redis Cluster. Scripts run atomically: a crash
//! or a concurrent operator can never leave an entry in both places or in neither.

use std::sync::LazyLock;

use redis::Script;

/// Dead-letters an entry: `XADD` to the dead-letter stream, then `XACK` in the group.
///
/// KEYS: stream, dead-letter stream. ARGV: group, origin id, then the dead-letter fields as
/// name/value pairs. The ack uses `pcall` so that a group deleted meanwhile doesn't lose the dead
/// letter. Returns the dead letter's id.
pub(super) static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.pcall('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
",
    )
});

/// Replays a dead letter: copies its payload and kind to a new entry of the origin stream and
/// deletes the dead letter.
///
/// KEYS: dead-letter stream, stream. ARGV: dead letter id, approximate MAXLEN of the stream.
/// Returns the new entry id, or nil if there is no such dead letter.
pub(super) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then return false end
local f = found[1][2]
local payload, kind = nil, ''
for i = 1, #f, 2 do
  if f[i] == 'payload' then payload = f[i + 1] elseif f[i] == 'kind' then kind = f[i + 1] end
end
if not payload then return redis.error_reply('dead letter has no payload field') end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'kind', kind, 'envelope', payload)
redis.call('XDEL', KEYS[1], ARGV[1])
return id
",
    )
});
