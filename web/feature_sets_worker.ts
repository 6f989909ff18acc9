/**
 * Entry point of js/feature_sets_worker.js in the page's bundle (web/build.ts): the feature sets' CPU worker
 * (kernels/feature_sets_worker.ts exposes itself when loaded as a worker), bundled beside js/worker.js where
 * kernels/feature_pool.ts looks for it.
 */
import "../kernels/feature_sets_worker.ts";
