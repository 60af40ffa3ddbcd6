// Types for the operations in ../operations (shared with the Python client),
// checked against the API's schema. `npm run codegen` rewrites
// src/generated/graphql.ts (committed); `npm run codegen:check` fails when that
// file is stale (a Python test runs it).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "../operations/**/*.graphql",
  generates: {
    "src/generated/graphql.ts": {
      // typescript-operations 6 emits the enums and inputs the operations use by
      // itself; adding the `typescript` plugin would declare them twice.
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        // Documents as typed strings: sent as they are, so no GraphQL parser or
        // printer is needed at run time.
        documentMode: "string",
        useTypeImports: true,
        strictScalars: true,
        // DateTime arrives as an ISO 8601 string. Upload needs a multipart
        // request, which this JSON client does not send, so no value fits it.
        scalars: { Date: "string", DateTime: "string", Upload: "never" },
      },
    },
  },
};

export default config;
