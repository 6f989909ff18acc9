# make_dcor_fixture.R -- reference values for distance correlation (kernels/dcor.ts, tests/dcor_test.ts).
#
# Writes tests/fixtures/dcor_energy.json: several (x, y) samples and, for each, R energy's
#   dcor(x, y)              V-statistic distance correlation (Szekely, Rizzo and Bakirov 2007)
#   dcov(x, y)              V-statistic distance covariance (its square is dcov2)
#   bcdcor(x, y)            bias-corrected (U-centred) squared distance correlation
#   dcor.test(x, y, R)      the permutation test: statistic (= dcor) and p-value with R's own permutations
#   cor(x, y)               Pearson, to show where it is blind
#
# How to run (from the repository root):
#
#   apt-get install -y --no-install-recommends r-base-core r-cran-energy
#   Rscript scripts/make_dcor_fixture.R [output-path]
#
# Deterministic (set.seed), so re-running reproduces the file on the same R / energy versions.
# Numbers are written with sprintf("%.17g"), which round-trips doubles exactly (jsonlite's digits = NA
# keeps only 15 significant digits).
suppressPackageStartupMessages(library(energy))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/fixtures/dcor_energy.json"

set.seed(20250105)
cases <- list()
add <- function(name, x, y, R = 999) {
  t <- dcor.test(x, y, R = R)
  cases[[length(cases) + 1]] <<- list(
    name = name, n = length(x), x = x, y = y,
    dcor = dcor(x, y), dcov2 = dcov(x, y)^2, bcdcor = unname(bcdcor(x, y)),
    test_statistic = unname(t$statistic), test_p = t$p.value, test_R = R,
    pearson = cor(x, y)
  )
}

n <- 30; add("independent normals n=30", rnorm(n), rnorm(n))
n <- 500; add("independent normals n=500", rnorm(n), rnorm(n))
n <- 200; x <- rnorm(n); add("y = x^2 + noise n=200", x, x^2 + 0.3 * rnorm(n))
n <- 1000; x <- rnorm(n); add("y = x^2 + noise n=1000", x, x^2 + 0.5 * rnorm(n))
n <- 100; x <- rnorm(n); add("linear y = 0.5 x + noise n=100", x, 0.5 * x + rnorm(n))
n <- 2000; x <- rt(n, df = 2); add("heavy-tailed t(2) pair n=2000", x, 0.3 * x + rt(n, df = 2), R = 199)
n <- 300; add("independent Cauchy n=300", rcauchy(n), rcauchy(n))
n <- 60; x <- round(2 * rnorm(n)); add("ties (rounded) n=60", x, round(x / 2 + rnorm(n)))
n <- 40; x <- 1e4 + 1e-3 * cumsum(rnorm(n)); add("price-like level 1e4 n=40", x, x + 1e-3 * rnorm(n))
add("n=4", c(0.5, -1.25, 2, 3.5), c(1, 0.25, -0.75, 2))
add("n=5", c(0.1, 0.7, -0.4, 1.3, 2.2), c(2, -1, 0.5, 0.25, 3))

num <- function(v) {
  s <- sprintf("%.17g", v)
  s[is.na(v)] <- "null"
  if (length(v) == 1) s else paste0("[", paste(s, collapse = ","), "]")
}
str <- function(s) paste0('"', gsub('"', '\\\\"', s), '"')
body <- vapply(cases, function(c) {
  fields <- c(
    paste0('"name":', str(c$name)), paste0('"n":', c$n),
    paste0('"dcor":', num(c$dcor)), paste0('"dcov2":', num(c$dcov2)), paste0('"bcdcor":', num(c$bcdcor)),
    paste0('"test_statistic":', num(c$test_statistic)), paste0('"test_p":', num(c$test_p)),
    paste0('"test_R":', c$test_R), paste0('"pearson":', num(c$pearson)),
    paste0('"x":', num(c$x)), paste0('"y":', num(c$y))
  )
  paste0("{", paste(fields, collapse = ","), "}")
}, "")
json <- paste0(
  "{\"generator\":", str("scripts/make_dcor_fixture.R"),
  ",\"energy_version\":", str(as.character(packageVersion("energy"))),
  ",\"r_version\":", str(R.version.string),
  ",\"cases\":[\n", paste(body, collapse = ",\n"), "\n]}\n"
)
writeLines(json, out, sep = "")
cat("wrote", out, "with", length(cases), "cases\n")
