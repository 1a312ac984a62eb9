import { Entity, type NewEntity } from './entity.js';
import { optionalText, text } from './validate.js';

export class Project extends Entity {
  tenantId!: string;
  teamId!: string | null;
  name!: string;
  description!: string | null;

  static create(
    ctx: NewEntity,
    input: { tenantId: string; name: string; description?: string | null; teamId?: string | null },
  ): Project {
    const project = new Project();
    project.init(ctx);
    project.tenantId = input.tenantId;
    project.name = text('name', input.name, { max: 100 });
    project.description = optionalText('description', input.description, 2000);
    project.teamId = input.teamId ?? null;
    return project;
  }

  update(changes: { name?: string; description?: string | null; teamId?: string | null }, now: Date): void {
    if (changes.name !== undefined) this.name = text('name', changes.name, { max: 100 });
    if (changes.description !== undefined) {
      this.description = optionalText('description', changes.description, 2000);
    }
    if (changes.teamId !== undefined) this.teamId = changes.teamId;
    this.touch(now);
  }
}
