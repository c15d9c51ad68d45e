# Helper of bench/cluster.ts: time dbscan::hdbscan on one point set.
# Usage: Rscript bench/cluster.R <points.csv> <minPts> <labels.out>
# The CSV holds integer coordinates x 1024 (see test/fixtures/hdbscan/points.ts).
# Prints one line: "<seconds> <dbscan version> <clusters>"; the time excludes
# reading the CSV.
suppressPackageStartupMessages(library(dbscan))
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1])) / 1024
minPts <- as.integer(args[2])
elapsed <- system.time(h <- hdbscan(x, minPts = minPts))[["elapsed"]]
writeLines(as.character(h$cluster), args[3])
cat(sprintf("%.3f %s %d\n", elapsed, as.character(packageVersion("dbscan")), length(unique(h$cluster[h$cluster > 0]))))
