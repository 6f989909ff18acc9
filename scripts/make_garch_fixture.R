# Writes tests/fixtures/garch_fgarch.json: a simulated GARCH(1,1) series and the estimates of R's
# fGarch::garchFit (Gaussian, constant mean) on it, for tests/garch_test.ts.
#   apt-get install -y r-base-core r-cran-fgarch r-cran-jsonlite
#   Rscript scripts/make_garch_fixture.R            (from the repository root)
suppressPackageStartupMessages({
  library(fGarch)
  library(jsonlite)
})
set.seed(20240611)
n <- 2000
burn <- 500
mu <- 0.05; omega <- 0.1; alpha <- 0.1; beta <- 0.85
z <- rnorm(n + burn)
r <- numeric(n + burn)
h <- omega / (1 - alpha - beta)
e <- 0
for (t in seq_len(n + burn)) {
  if (t > 1) h <- omega + alpha * e^2 + beta * h
  e <- sqrt(h) * z[t]
  r[t] <- mu + e
}
r <- signif(r[(burn + 1):(burn + n)], 10)
fit <- garchFit(~ garch(1, 1), data = r, include.mean = TRUE, cond.dist = "norm", trace = FALSE)
coef <- fit@fit$coef
se <- fit@fit$se.coef
out <- list(
  source = "fGarch::garchFit(~ garch(1, 1), include.mean = TRUE, cond.dist = 'norm')",
  fgarch_version = as.character(packageVersion("fGarch")),
  r_version = R.version.string,
  true = list(mu = mu, omega = omega, alpha = alpha, beta = beta),
  params = list(mu = unname(coef["mu"]), omega = unname(coef["omega"]),
                alpha = unname(coef["alpha1"]), beta = unname(coef["beta1"])),
  se = list(mu = unname(se["mu"]), omega = unname(se["omega"]),
            alpha = unname(se["alpha1"]), beta = unname(se["beta1"])),
  loglik = -unname(fit@fit$llh),
  returns = r
)
dir.create("tests/fixtures", showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(out, digits = I(10), auto_unbox = TRUE), "tests/fixtures/garch_fgarch.json")
cat("wrote tests/fixtures/garch_fgarch.json\n")
print(coef); print(se); print(-fit@fit$llh)
