# Writes tests/fixtures/garch_models_fgarch.json: R fGarch::garchFit of the GARCH family on the DEM/GBP
# returns (tests/fixtures/dem2gbp.csv) and on a simulated GJR-GARCH(1,1) series with Student-t shocks, for
# tests/garch_models_test.ts.
#   apt-get install -y r-base-core r-cran-fgarch r-cran-jsonlite
#   Rscript scripts/make_garch_models_fixture.R            (from the repository root)
# Each fit: fGarch's own names and values (alpha1, gamma1, beta1, shape, skew; the GJR entries are
# ~aparch(1,1) with delta = 2 fixed, whose (alpha, gamma) the test maps to arch's GJR), standard errors,
# log-likelihood and sigma_t at every 25th row.
suppressPackageStartupMessages({
  library(fGarch)
  library(jsonlite)
})
dem <- read.csv("tests/fixtures/dem2gbp.csv")$dem2gbp

set.seed(20261207)
n <- 2000
burn <- 500
nu <- 6
z <- rt(n + burn, df = nu) * sqrt((nu - 2) / nu)
r <- numeric(n + burn)
h <- 0.5
e <- 0
for (t in seq_len(n + burn)) {
  if (t > 1) h <- 0.02 + (0.04 + 0.1 * (e < 0)) * e^2 + 0.88 * h
  e <- sqrt(h) * z[t]
  r[t] <- 0.03 + e
}
sim <- signif(r[(burn + 1):(burn + n)], 10)

fit1 <- function(series, name, formula, model, dist, mean = TRUE, aparch = FALSE) {
  args <- list(formula = formula, data = series, include.mean = mean, cond.dist = dist, trace = FALSE)
  if (aparch) args <- c(args, list(delta = 2, include.delta = FALSE))
  fit <- suppressWarnings(do.call(garchFit, args))
  sig <- fit@sigma.t
  list(
    series = name, model = model, mean = if (mean) "constant" else "zero", cond_dist = dist,
    params = as.list(fit@fit$coef), se = as.list(fit@fit$se.coef),
    loglik = -unname(fit@fit$llh),
    sigma_every_25 = sig[seq(1, length(sig), by = 25)]
  )
}

fits <- list(
  fit1(dem, "dem2gbp", ~ garch(1, 1), "garch11_t", "std"),
  fit1(dem, "dem2gbp", ~ garch(1, 1), "garch11_t", "std", mean = FALSE),
  fit1(dem, "dem2gbp", ~ garch(2, 1), "garch21", "norm"),
  fit1(dem, "dem2gbp", ~ garch(1, 2), "garch12", "norm"),
  fit1(dem, "dem2gbp", ~ aparch(1, 1), "gjr11", "norm", aparch = TRUE),
  fit1(dem, "dem2gbp", ~ aparch(1, 1), "gjr11_t", "std", aparch = TRUE),
  fit1(dem, "dem2gbp", ~ garch(1, 1), "garch11_sstd", "sstd"),
  fit1(sim, "sim", ~ garch(1, 1), "garch11_t", "std"),
  fit1(sim, "sim", ~ aparch(1, 1), "gjr11_t", "std", aparch = TRUE),
  fit1(sim, "sim", ~ aparch(1, 1), "gjr11", "norm", aparch = TRUE)
)
out <- list(
  source = "fGarch::garchFit on tests/fixtures/dem2gbp.csv and a simulated GJR-t series; see scripts/make_garch_models_fixture.R",
  fgarch_version = as.character(packageVersion("fGarch")),
  r_version = R.version.string,
  sim = list(mu = 0.03, omega = 0.02, alpha = 0.04, gamma = 0.1, beta = 0.88, nu = nu, returns = sim),
  fits = fits
)
writeLines(toJSON(out, digits = I(10), auto_unbox = TRUE), "tests/fixtures/garch_models_fgarch.json")
cat("wrote tests/fixtures/garch_models_fgarch.json\n")
for (f in fits) cat(f$series, f$model, f$mean, f$loglik, unlist(f$params), "\n")
