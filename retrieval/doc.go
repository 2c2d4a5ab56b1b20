// Package retrieval holds the product catalog and finds the products that
// fit a shopper's message.
//
// Import reads catalogs in the formats stores export (Shopify product CSV,
// Google Merchant Center TSV and RSS/Atom XML, generic CSV, TSV and JSON
// Lines with a column mapping) and reports each rejected row with its line.
// An Index keeps the catalog with one vector per product from an Embedder,
// and Search ranks it with a hybrid method. Filters on price, stock,
// category, brand and colour, passed by the caller or read from the text by
// ParseFilter, apply before ranking. Query.Budget, a price bound remembered from earlier turns,
// puts the products within it first without removing the others.
//
// Ranking: BM25F over an inverted index (title weighted 3, plural stemming,
// stop words, CJK character bigrams) and cosine similarity over product
// vectors. The default local embedder hashes words, word bigrams and
// character trigrams into 65,536 signed buckets, and the Index weights each
// bucket by its inverse document frequency in the catalog, stored as a
// sparse inverted index (sparseIndex). Any langchaingo embedder can replace
// it, and its dense vectors are scanned exhaustively (vectorMatrix). The
// two candidate lists are fused by their scores, each divided by its
// list's best, with the vector side weighted 0.5. docs/benchmarks.md has the
// ablation on the Home Depot search relevance set behind each of these
// choices, and the command that reproduces it.
//
// Persistence: the index directory holds one snapshot file (snapshotFile, a
// checksummed little-endian binary format written to a temporary file,
// synced and renamed) and a write-ahead log of incremental upserts
// (logFile). The snapshot replaced a chromem-go v0.7.0 export, which Open
// still reads and converts. Loading that export at 100,000 products
// allocated about 1.4 GB and took 1.3 to 3.8 s on a shared 2-core machine
// (BenchmarkLoadChromemExport), because chromem-go decodes every document
// into its own collection before the index copies it. The binary file is
// read once, straight into the search structures. The index searches its
// own structures rather than a chromem-go collection because a chromem-go
// query scans every dimension of every document and cannot use sparse
// vectors.
//
// Writes: Upsert of a few products patches the current state and appends
// one record to the log. The patch copies the keyword posting lists of the
// terms involved, keeps the changed products' vectors in a small overlay
// beside those of the last full build, and shares everything else, so its
// cost grows little with the catalog. Other writes, and an Upsert that
// would bring the products changed since the last full build above a tenth
// of the catalog, rebuild the state, write a new snapshot and drop the log.
// Incremental writes keep the corpus statistics (idf, average length) of
// the last full build.
//
// Concurrency: an Index is safe for concurrent use. Search, Get, Products
// and Len read an immutable state through an atomic pointer and never
// wait. Upsert, Delete and Replace run one at a time under a mutex: each
// builds the next state aside (embedding only new or changed products),
// persists it, then swaps the pointer. There is one lock, so there is no
// lock order to keep. Import and ParseFilter are pure functions.
package retrieval
