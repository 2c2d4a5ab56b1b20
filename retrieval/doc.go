// Package retrieval holds the product catalog and finds the products that
// fit a shopper's message.
//
// Import reads catalogs in the formats stores export (Shopify product CSV,
// Google Merchant Center TSV and RSS/Atom XML, generic CSV, TSV and JSON
// Lines with a column mapping) and reports each rejected row with its line.
// An Index keeps the catalog with one vector per product from an Embedder
// (the built-in hashed n-gram embedder by default, or any langchaingo
// embedder) and answers Search with a hybrid ranking: BM25 over an inverted
// index and cosine similarity over all products, fused by reciprocal rank,
// after filters on price, stock, category, brand and colour that the caller
// passes or ParseFilter reads from the text.
//
// The index is persisted under its directory as one chromem-go export file,
// replaced atomically (temporary file, fsync, rename) on every write, so a
// crash leaves either the old or the new catalog.
//
// Concurrency: an Index is safe for concurrent use. Search, Get, Products
// and Len read an immutable snapshot through an atomic pointer and never
// wait. Upsert, Delete and Replace run one at a time under a mutex: each
// builds the next snapshot aside (embedding only new or changed products),
// writes it to disk, then swaps the pointer. There is one lock, so there is
// no lock order to keep. Import and ParseFilter are pure functions.
package retrieval
