declare module 'swagger-ui-dist' {
  /** The folder of the package's static files. */
  export function getAbsoluteFSPath(): string;
}
