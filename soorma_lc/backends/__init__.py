"""The servers every layer shares and how components use them: Redis (clients, the embedded
server, the one construction pattern of Redis-backed components, the one error mapping), Chroma
(clients, collections), embeddings, and the one sync-over-async bridge. Bus, registry, memory
and toolkit build on these; this package depends on nothing of theirs."""
