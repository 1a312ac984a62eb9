import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// One zod instance, extended once with `.openapi()`: the schemas that validate requests are
// the ones the OpenAPI document is generated from.
extendZodWithOpenApi(z);

export { z };
