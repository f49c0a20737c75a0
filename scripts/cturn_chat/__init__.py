"""The CTurn chat client (scripts/chat): end-to-end encrypted, and
interoperable with the original Node client.js. See docs/chat.md."""
