"""Retrieval over the documentation: ingestion, chunking, embeddings, FAISS + BM25 hybrid search."""
