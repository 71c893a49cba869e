import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { chartRoutes } from './chart.routes.ts';
import { datasetCreateRoutes } from './dataset-create.routes.ts';
import { datasetEditRoutes } from './dataset-edit.routes.ts';
import { datasetUploadRoutes } from './dataset-upload.routes.ts';
import { downloadRoutes } from './downloads.routes.ts';
import { metadataRoutes } from './metadata.routes.ts';
import { portalPageRoutes } from './portal.routes.ts';
import { PortalService } from './portal.service.ts';
import { previewRoutes } from './preview.routes.ts';

/** Registers the public data portal: pages, previews, charts, downloads and DCAT metadata. */
export async function registerPortal(app: FastifyInstance, services: Services): Promise<void> {
  const withPortal = { ...services, portal: new PortalService(services.db, services.catalogue) };
  await portalPageRoutes(app, withPortal);
  await previewRoutes(app, withPortal);
  await chartRoutes(app, withPortal);
  await downloadRoutes(app, withPortal);
  await metadataRoutes(app, withPortal);
  await datasetEditRoutes(app, withPortal);
  await datasetUploadRoutes(app, withPortal);
  await datasetCreateRoutes(app, withPortal);
}
