/**
 * Feature Genesis: WebGPU kernels for financial time-series features, with f64 CPU paths.
 * This module is the public API used by the CLI and the browser page alike.
 * @module
 */

export {
  type BackendChoice,
  type Compute,
  type ComputeOptions,
  openCompute,
  withFallback,
} from "./runtime/backend.ts";
export { DataError, GpuError, UsageError } from "./runtime/errors.ts";
export { LIMITS } from "./runtime/limits.ts";
export { Batch, type GpuLimits, type GpuOptions, GpuRuntime, MAX_WORKGROUP } from "./runtime/gpu.ts";
export type { BufferPool } from "./runtime/pool.ts";
export { log, type LogLevel, type LogSink, setLogLevel, setLogSink } from "./runtime/log.ts";
export { Rng } from "./runtime/rng.ts";
export { type NativeBlas, nativeBlas } from "./runtime/blas.ts";
export {
  centre,
  type ColumnPrep,
  planSegments,
  runSegmented,
  type Segment,
  type SegmentedJob,
  type SegmentIO,
} from "./runtime/segments.ts";
export { loadShader } from "./runtime/shaders.ts";

export {
  defineFrameKernel,
  defineKernel,
  defineScalarKernel,
  type FrameKernel,
  type Kernel,
  type Params,
  type ParamsOf,
  type ParamSpec,
  parseParams,
  runKernel,
  type ScalarKernel,
  type Tolerance,
} from "./kernels/kernel.ts";
export {
  type AnyFrameKernel,
  type AnyKernel,
  type AnyScalarKernel,
  FRAME_KERNELS,
  KERNELS,
  SCALAR_KERNELS,
} from "./kernels/registry.ts";
export {
  type AdfAutolag,
  adfBatch,
  adfKernel,
  type AdfKernelParams,
  type AdfOptions,
  type AdfRegression,
  type AdfResult,
  adfuller,
  type CriticalValues,
  finiteSpan,
  schwertMaxlag,
} from "./kernels/adf.ts";
export {
  kpss,
  kpssKernel,
  type KpssKernelParams,
  type KpssOptions,
  type KpssResult,
} from "./kernels/kpss.ts";
export { mackinnoncrit, mackinnonp, normalCdf } from "./kernels/mackinnon.ts";
export {
  criticalLevel,
  evaluateD,
  MIN_D_DEFAULTS,
  minD,
  minDKernel,
  type MinDKernelParams,
  type MinDOptions,
  type MinDResult,
  type MinDRow,
} from "./kernels/min_d.ts";
export {
  convolveCausalCpu,
  convolveCausalDirectGpu,
  ffdWeights,
  fracdiff,
  fracdiffGpu,
  type FracdiffParams,
} from "./kernels/fracdiff.ts";
export {
  type MomentKind,
  type MomentParams,
  rollingMean,
  rollingMomentsCpu,
  rollingMomentsGpu,
  rollingStd,
  zscore,
} from "./kernels/rolling_moments.ts";
export { rollingCorr, rollingCorrCpu, rollingCorrGpu } from "./kernels/rolling_corr.ts";
export { logstab, logStabCpu, logStabGpu, type LogStabParams } from "./kernels/logstab.ts";
export { bk, bkCpu, bkGpu, type BkParams, bkWeights } from "./kernels/baxter_king.ts";
export {
  type BkReport,
  engineerFeatures,
  type FeatureEngineeringConfig,
  type FeatureEngineeringReport,
} from "./engines/feature_engineering.ts";
export {
  type CpuFeatureRunner,
  FEATURE_SET_NAMES,
  FEATURE_SETS,
  featureColumnName,
  featurePlacement,
  featureSetCpu,
  featureSetGpu,
  type FeatureSetName,
  GPU_FEATURES,
  GPU_TOLERANCE as FEATURE_GPU_TOLERANCE,
  gpuFeaturesFor,
  inProcessRunner,
} from "./kernels/feature_sets.ts";
export {
  previousSegment,
  segmentLens,
  specMaxWindow,
  windowFeaturesGpu,
  type WindowShader,
  type WindowSpec,
} from "./kernels/window_features.ts";
export { type FeatureJob, type FeaturePoolOptions, featureSetCpuParallel } from "./kernels/feature_pool.ts";
export {
  extractFeatures,
  type FeatureExtractionConfig,
  type FeatureFrameResult,
  type FeatureSetReport,
  featuresKernel,
} from "./kernels/feature_frame.ts";
export {
  fitGarch,
  fitGarchCpu,
  fitGarchGpu,
  fitGarchWalkForward,
  GARCH_DEFAULTS,
  garchFilter,
  garchFilterFrom,
  type GarchFit,
  type GarchFitOf,
  garchKernel,
  type GarchKernelParams,
  type GarchOptions,
  type GarchParams,
  type GarchStatus,
  percentLogReturns,
  type Refit,
  type VarianceInit,
  type WalkForwardOptions,
  walkForwardRefits,
} from "./kernels/garch.ts";
export {
  fitGarchModel,
  fitGarchModelCpu,
  fitGarchModelGpu,
  fitGarchModelWalkForward,
  GARCH_MODEL_DEFAULTS,
  type GarchDist,
  type GarchMean,
  type GarchModelFit,
  type GarchModelOptions,
  type GarchModelParams,
  type GarchModelSpec,
  MODEL_SCHEME,
  modelFilter,
  modelFilterFrom,
  modelName,
  ModelRecursion,
  parseModel,
} from "./kernels/garch.ts";
export {
  type GarchColumnReport,
  type GarchEngineConfig,
  type GarchMode,
  type GarchModelReport,
  garchModels,
  garchModelSpecs,
  type GarchReport,
  type GarchTally,
} from "./engines/garch.ts";

export {
  type EngineResult,
  MIN_D_AUTO_DEFAULTS,
  type MinDAutoConfig,
  minDConfig,
  type MinDReport,
  type ProgressFn,
  STATIONARIZATION_DEFAULTS,
  type StationarizationConfig,
  type StationarizationReport,
  stationarize,
} from "./engines/stationarization.ts";

export {
  type BadCells,
  columnNames,
  type Frame,
  getColumn,
  makeFrame,
  type SkippedColumn,
} from "./io/frame.ts";
export { decodeFrame, type DecodeOptions, readFrameFile } from "./io/read.ts";
export {
  checkOutputFile,
  encodeCsv,
  type OutputColumn,
  type OutputTimestamps,
  StorageError,
  writeFileAtomic,
} from "./io/write.ts";
export { type Compressor, encodeParquet } from "./io/parquet_write.ts";
export { encodeFeather, type FeatherCompression } from "./io/feather_write.ts";

export { loadConfig, loadConfigFile, type LoadOptions } from "./config/load.ts";
export type { EnvLookup } from "./config/env.ts";
export { configHash, formatConfig, maskSecrets } from "./config/print.ts";
export {
  type Backend,
  type BaxterKingConfig,
  type Compression,
  type ComputeConfig,
  type Config,
  type DataConfig,
  defaultConfig,
  type DevelopmentConfig,
  ENGINE_NAMES,
  type EngineName,
  type EngineToggle,
  type ExtractionConfig,
  type FeaturesConfig,
  type FracDiffConfig,
  type GarchConfig,
  type GeneratorConfig,
  type InputFormat,
  type LogStabilizationConfig,
  type OutputFormat,
  type PipelineConfig,
  registryPath,
  type RollingCorrConfig,
  type S3Config,
  type StorageConfig,
  validateConfig,
  type ValidateOptions,
} from "./config/schema.ts";
export { generate, type GenerateOptions, type GenerateResult } from "./generator/generate.ts";
export {
  type BarColumns,
  type BarParams,
  barParams,
  type BarState,
  generateBars,
  instrumentName,
} from "./generator/bars.ts";
export { type CsvDialect, csvDialect, type DateOrder } from "./io/csv_dialect.ts";
export { LocalStorage, type RangeReader, type Storage, type StoredObject } from "./io/storage.ts";
export type { Bytes } from "./io/bytes.ts";
export { parseS3Url, type S3Connection, type S3Options, S3Storage, storageFor } from "./io/s3.ts";
export {
  enabledEngines,
  type Engine,
  type EngineReports,
  type EngineStep,
  recordReport,
  runEngines,
} from "./pipeline/engines.ts";
export { discoverTasks, shardTasks, type Task } from "./io/discover.ts";
export { openStorage } from "./pipeline/storage.ts";
export {
  type ChunkedManifest,
  type Manifest,
  type OutputOptions,
  readManifest,
  TaskOutput,
  writeTaskOutput,
} from "./pipeline/output.ts";
export {
  type LeaseHolder,
  type LeaseRequest,
  Registry,
  type RunRow,
  type RunStart,
  type TaskRow,
} from "./pipeline/registry.ts";
export type { SqlDb } from "./pipeline/sql_db.ts";
export { isPostgresUrl } from "./pipeline/registry_pg.ts";
export { type RunOverview, runOverview, type ShardOverview } from "./pipeline/run_overview.ts";
export {
  ARRAY_INDEX_VARS,
  parseShard,
  resolveRunId,
  resolveShard,
  RUN_ID_VAR,
  type Shard,
  SHARD_COUNT_VAR,
} from "./pipeline/array_job.ts";
export { type RunOptions, runPipeline, type RunSummary, type TaskSummary } from "./pipeline/run.ts";
export { fingerprintInputs, type InputFingerprint, inputsChanged } from "./pipeline/inputs.ts";
export {
  assessColumns,
  type ColumnQuality,
  columnQuality,
  type Counts,
  InputTally,
  QualityTally,
} from "./pipeline/quality.ts";
export {
  type ChunkedRunOptions,
  chunkHalo,
  type ChunkPart,
  type ChunkPlan,
  planChunks,
  runEnginesChunked,
  unchunkable,
} from "./pipeline/chunked.ts";
export {
  type ChunkedTaskOptions,
  type ChunkedTaskResult,
  InputsHash,
  runChunkedTask,
} from "./pipeline/chunked_task.ts";
export { ChunkedGarch, type ChunkedGarchState } from "./engines/garch_chunked.ts";
export {
  dcor,
  dcorExact,
  dcorFast,
  dcorGpu,
  type DcorMethod,
  type DcorOptions,
  type DcorResult,
  dcorTest,
  dcorTestGpu,
  type DcorTestOptions,
  type DcorTestResult,
  type PermutationScheme,
  rollingDcor,
  rollingDcorCpu,
  rollingDcorGpu,
  type RollingDcorParams,
} from "./kernels/dcor.ts";
export type { DcorGpuOptions } from "./kernels/dcor_gpu.ts";
export {
  bhQValues,
  type ExcludedFeature,
  forwardReturn,
  forwardReturnTime,
  parseTarget,
  type PermutationReport,
  type RankedFeature,
  selectFeatures,
  type SelectionConfig,
  type SelectionReport,
  type TargetHorizon,
  type TargetSpec,
} from "./engines/statistical_tests.ts";

export {
  type Agg,
  type BarPlan,
  parseDuration,
  planBars,
  resample,
  resampleCpu,
  resampleGpu,
  resampleKernel,
  type ResampleKernelParams,
  type ResampleOptions,
  type ResolvedResample,
  resolveResample,
} from "./kernels/resample.ts";
export { load, type LoaderOptions, type LoadResult } from "./pipeline/loader.ts";
export {
  checksFor,
  COLUMN_ROLES,
  type ColumnMapping,
  type ColumnRole,
  type InputPiece,
  loadTask,
  type LoadTaskOptions,
  type LoadTimings,
  resolveColumns,
  validatedPieces,
} from "./io/validate.ts";
export { frameSource, type RowSource, scanTask } from "./io/row_source.ts";
export {
  type CacheEntry,
  type CacheOptions,
  decodeFrameEntry,
  DiskCache,
  encodeFrameEntry,
} from "./io/cache.ts";
export {
  type CorrMatrix,
  corrMatrix,
  corrMatrixBlas,
  corrMatrixCpu,
  corrMatrixGpu,
  corrMatrixParallel,
  type CorrMatrixPoolOptions,
  covarianceOf,
  MIN_PARALLEL_TILE_ROWS,
} from "./kernels/corr_matrix.ts";
export { type Eigen, symmetricEigen, symmetricEigenNative } from "./kernels/eigen.ts";
export { jacobiEigen, pca, pcaFromCorr, type PcaOptions, type PcaResult } from "./kernels/pca.ts";
export {
  type DroppedFeature,
  finiteVariance,
  runSelectionFilters,
  selectionFilters,
  type SelectionFiltersConfig,
  type SelectionFiltersReport,
} from "./engines/selection_filters.ts";

export { type CvOptions, type Fold, purgedFolds, spearman } from "./study/cv.ts";
export { loadStudyFile, parseStudy, type StudyDefinition } from "./study/definition.ts";
export { type Dimension, type Space, type TrialParams } from "./study/space.ts";
export { type Observation, sampleRandom, sampleTpe, type TpeOptions } from "./study/tpe.ts";
export { type StudyRow, StudyStore, type TrialRow, type TrialState } from "./study/store.ts";
export {
  bestConfigPath,
  leaderboard,
  runStudy,
  type RunStudyOptions,
  type StudyResult,
  trialConfigYaml,
} from "./study/run.ts";
