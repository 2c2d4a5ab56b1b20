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
// vectors. The two candidate lists are fused by their scores, each divided
// by its list's best, with the vector side weighted 0.5. docs/benchmarks.md
// has the ablation on the Home Depot search relevance set behind each of
// these choices, and the command that reproduces it.
//
// Vector search takes one of two paths, chosen by the embedder:
//
//   - The default local embedder hashes words, word bigrams and character
//     trigrams into 65,536 signed buckets, and the Index weights each bucket
//     by its inverse document frequency in the catalog. These vectors are
//     sparse, so a sparse inverted index (sparseIndex) scores them exactly,
//     walking only the posting lists of the query's non-zero buckets.
//     TestSparseScoringMatchesChromem checks that its top products and
//     cosines equal those of a chromem-go v0.7.0 collection of the same
//     vectors expanded to dense. chromem-go is not used on this path
//     because it stores dense vectors only and scans every dimension of
//     every document. A dense search over 100,000 products of 256
//     dimensions, one chromem-go query, took about 50 ms at the median on
//     a shared 2-core machine (BenchmarkSearchDense), and 65,536
//     dimensions would multiply that scan by 256. A whole sparse search of the same catalog takes about
//     2 ms (BenchmarkSearch).
//   - A langchaingo embedder (OpenAI-compatible, Ollama) returns dense
//     vectors, which go into an in-memory chromem-go v0.7.0 collection
//     (denseIndex) built with each full write and at Open. Search queries it
//     for the most similar products with QueryEmbedding. chromem-go cannot
//     apply the Index's filters, so a filtered search fetches more results
//     than it needs and filters them (denseCandidates). Its query scans the
//     whole collection, so dense search grows linearly with the catalog.
//
// Keyword candidates outside the vector list get their cosine computed
// directly from their stored vector, so fusion uses the same scores on
// both paths.
//
// Persistence: the index directory holds one snapshot file (snapshotFile, a
// checksummed little-endian binary format written to a temporary file,
// synced and renamed) and a write-ahead log of incremental upserts
// (logFile). The snapshot replaced a chromem-go v0.7.0 export, which Open
// still reads and converts. Loading that export at 100,000 products
// allocated about 1.4 GB and took 1.3 to 3.8 s on a shared 2-core machine
// (BenchmarkLoadChromemExport), because chromem-go decodes every document
// into its own collection before the index copies it. The binary file is
// read once, straight into the search structures.
//
// Writes: Upsert of a few products patches the current state and appends
// one record to the log. The patch copies the keyword posting lists of the
// terms involved, keeps the changed products' vectors in a small overlay
// beside those of the last full build, and shares everything else, so its
// cost grows little with the catalog. A patch never writes to the
// chromem-go collection, because a chromem-go write holds the collection's
// lock and would block the searches running on it. Searches score the
// overlay's products directly and skip their old entries in the
// collection. Other writes, and an Upsert that would bring the products
// changed since the last full build above a tenth of the catalog, rebuild
// the state (a new chromem-go collection included), write a new snapshot
// and drop the log. Incremental writes keep the corpus statistics (idf,
// average length) of the last full build.
//
// Concurrency: an Index is safe for concurrent use. Search, Get, Products
// and Len read an immutable state through an atomic pointer and never
// wait. Upsert, Delete and Replace run one at a time under a mutex: each
// builds the next state aside (embedding only new or changed products),
// persists it, then swaps the pointer. There is one lock, so there is no
// lock order to keep. Import and ParseFilter are pure functions.
package retrieval
