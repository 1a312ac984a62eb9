/** `projectId` → `project_id`: a camelCase name as the wire and the database spell it. */
export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
