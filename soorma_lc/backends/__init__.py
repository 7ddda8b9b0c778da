"""The servers every layer shares: Redis (clients, the embedded server, error mapping), Chroma
(clients, collections) and embeddings. Bus, registry, memory and toolkit build on these; this
package depends on nothing of theirs."""
