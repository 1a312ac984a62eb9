/** `serviceId` → `service_id`: a camelCase name as the wire spells it. */
export const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
