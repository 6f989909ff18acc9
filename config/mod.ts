/** The configuration layer: load, validate, print and fingerprint the pipeline's YAML config. */

export { type EnvLookup, processEnv, substitute, type Substituted } from "./env.ts";
export { loadConfig, loadConfigFile, type LoadOptions } from "./load.ts";
export { configHash, formatConfig, isSecretKey, maskSecrets } from "./print.ts";
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
  type FeaturesConfig,
  type FracDiffConfig,
  type GarchConfig,
  type GeneratorConfig,
  type InputFormat,
  type LogStabilizationConfig,
  type OutputFormat,
  parseByteSize,
  type PipelineConfig,
  registryPath,
  type RollingCorrConfig,
  type S3Config,
  type StorageConfig,
  validateConfig,
  type ValidateOptions,
} from "./schema.ts";
