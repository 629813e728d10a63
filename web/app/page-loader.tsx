import { type ComponentType, lazy } from 'react';
import type { PageProps, RouteDef } from './routes.ts';

/**
 * Route-level code splitting without a hydration flash: the page the server rendered is loaded
 * before hydration (server: before rendering; browser: before `hydrateRoot`, its chunk already
 * modulepreloaded), so both render it directly; pages reached later by navigation go through
 * `React.lazy` and the route's Suspense boundary.
 */
export interface PageLoader {
  preload(route: RouteDef): Promise<void>;
  component(route: RouteDef): ComponentType<PageProps>;
}

export function createPageLoader(): PageLoader {
  const loaded = new Map<string, ComponentType<PageProps>>();
  const lazies = new Map<string, ComponentType<PageProps>>();
  return {
    async preload(route) {
      if (loaded.has(route.id)) return;
      const module = await route.load();
      loaded.set(route.id, module.default);
    },
    component(route) {
      const ready = loaded.get(route.id);
      if (ready) return ready;
      let component = lazies.get(route.id);
      if (!component) {
        component = lazy(async () => {
          const module = await route.load();
          loaded.set(route.id, module.default);
          return module;
        });
        lazies.set(route.id, component);
      }
      return component;
    },
  };
}
