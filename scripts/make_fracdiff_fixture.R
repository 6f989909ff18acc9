# make_fracdiff_fixture.R -- reference fixtures for fractional differencing.
#
# Writes tests/fixtures/fracdiff_r.json, produced by R's `fracdiff` package
# (fracdiff::diffseries), to validate our fixed-width-window fractional
# differencing (FFD) and its weight recursion.
#
# How to run (from the repository root):
#
#   Rscript scripts/make_fracdiff_fixture.R [output-path]
#
# (output-path defaults to tests/fixtures/fracdiff_r.json). The output is
# deterministic (set.seed), so re-running reproduces the file byte for byte on
# the same R / fracdiff versions.
#
# Debian packages needed (Debian 12 "bookworm" ships R 4.2.2, fracdiff 1.5-2):
#
#   apt-get install -y --no-install-recommends r-base-core r-cran-fracdiff
#
# No other R packages are used (JSON is written by hand, see fmt_num below:
# jsonlite's toJSON(digits = NA) prints only 15 significant digits and does
# NOT round-trip doubles).
#
# What fracdiff::diffseries(x, d) computes (fracdiff 1.5-2 source, verbatim):
#
#   function (x, d) {
#       stopifnot((iT <- length(x)) >= 2)
#       x <- x - mean(x)
#       np2 <- nextn(iT + iT - 1L)
#       pad <- rep.int(0, np2 - iT)
#       k <- seq_len(iT - 1L)
#       b <- c(1, cumprod((k - (d + 1))/k), pad)
#       dx <- fft(fft(b) * fft(c(x, pad)), inverse = TRUE)[seq_len(iT)]/np2
#       Re(dx)
#   }
#
# i.e. it DEMEANS the series with the ordinary sample mean (x - mean(x), R's
# mean() which uses long-double accumulation plus a correction pass), then
# takes the expanding-window (full-history, untruncated) fractional difference
#
#   y[t] = sum_{k=0}^{t} b_k * (x[t-k] - mean(x)),   t = 0 .. n-1 (0-based),
#   b_0 = 1,  b_k = b_{k-1} * (k - d - 1) / k  ( = -b_{k-1} (d - k + 1) / k ),
#
# which is exactly our weight recursion w_k without any threshold truncation.
# The convolution is evaluated with a zero-padded FFT (linear, not circular,
# convolution: np2 >= 2n - 1), so the result carries FFT round-off: its
# absolute error is ~1e-16 * (scale of the demeaned series), not ~1e-16 of
# each y[t]. This script checks diffseries against a direct O(n^2) summation
# in R and aborts if they disagree by more than 1e-11 relative to max|y|.
#
# The "mean" field in the JSON is the exact double R subtracted; tests should
# use it rather than recomputing the mean (a naive sum/n can differ in the
# last bit).
#
# Weights: for each d, "w" holds w_0..w_49 computed independently of the
# recursion, as the generalized binomial coefficient w_k = (-1)^k choose(d, k)
# (R's choose() for non-integer n; agrees with the recursion to ~5e-14
# relative, exactly for d = 1 where w = 1, -1, 0, 0, ...).

args <- commandArgs(trailingOnly = TRUE)
out_path <- if (length(args) >= 1) args[[1]] else "tests/fixtures/fracdiff_r.json"

suppressPackageStartupMessages(library(fracdiff))

ds <- c(0.1, 0.25, 0.4, 0.5, 0.75, 1.0)
n_weights <- 50L

set.seed(20240611)
series <- list(
  # (a) random-walk log price around 9, n = 400, returns sd 1e-3
  list(name = "logprice_rw", x = 9 + cumsum(rnorm(400, mean = 0, sd = 1e-3))),
  # (b) i.i.d. returns, n = 300, sd 1e-2
  list(name = "iid_returns", x = rnorm(300, mean = 0, sd = 1e-2)),
  # (c) price series around 1e4, n = 250 (geometric random walk, daily vol 1%)
  list(name = "price_1e4", x = 1e4 * exp(cumsum(rnorm(250, mean = 0, sd = 1e-2))))
)

# Shortest decimal (15..17 significant digits) that round-trips the double.
fmt_num <- function(v) {
  vapply(v, function(z) {
    stopifnot(is.finite(z))
    if (z == 0) return("0")  # also maps -0 to 0
    for (p in 15:17) {
      s <- sprintf(paste0("%.", p, "g"), z)
      if (as.numeric(s) == z) return(s)
    }
    sprintf("%.17g", z)
  }, character(1))
}
json_arr <- function(v) paste0("[", paste(fmt_num(v), collapse = ","), "]")
json_str <- function(s) paste0("\"", gsub("\"", "\\\\\"", s), "\"")

# Independent O(n^2) check of diffseries (direct summation, recursion weights).
direct <- function(x, d) {
  n <- length(x)
  xc <- x - mean(x)
  k <- seq_len(n - 1L)
  b <- c(1, cumprod((k - (d + 1)) / k))
  vapply(seq_len(n), function(t) sum(b[1:t] * xc[t:1]), numeric(1))
}

series_json <- character(0)
for (s in series) {
  x <- s$x
  cases_json <- character(0)
  for (d in ds) {
    y <- fracdiff::diffseries(x, d)
    yd <- direct(x, d)
    rel <- max(abs(y - yd)) / max(abs(yd))
    if (!(rel < 1e-11)) stop(sprintf("diffseries vs direct mismatch: %s d=%g rel=%g", s$name, d, rel))
    cases_json <- c(cases_json, sprintf("{\"d\":%s,\"y\":%s}", fmt_num(d), json_arr(y)))
  }
  series_json <- c(series_json, sprintf(
    "{\"name\":%s,\"x\":%s,\"mean\":%s,\"cases\":[%s]}",
    json_str(s$name), json_arr(x), fmt_num(mean(x)), paste(cases_json, collapse = ",\n")))
}

weights_json <- character(0)
for (d in ds) {
  k <- 0:(n_weights - 1L)
  w <- (-1)^k * choose(d, k)
  weights_json <- c(weights_json, sprintf("{\"d\":%s,\"w\":%s}", fmt_num(d), json_arr(w)))
}

generator <- sprintf("R %s.%s, fracdiff %s, diffseries",
                     R.version$major, R.version$minor, as.character(packageVersion("fracdiff")))
json <- paste0(
  "{\"generator\":", json_str(generator), ",\n",
  "\"script\":", json_str("scripts/make_fracdiff_fixture.R"), ",\n",
  "\"series\":[\n", paste(series_json, collapse = ",\n"), "\n],\n",
  "\"weights\":[\n", paste(weights_json, collapse = ",\n"), "\n]}\n")
dir.create(dirname(out_path), showWarnings = FALSE, recursive = TRUE)
writeLines(json, out_path, sep = "")
cat(sprintf("wrote %s (%d bytes)\n", out_path, file.size(out_path)))
