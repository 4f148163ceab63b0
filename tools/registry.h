/* tools/registry.h: placeholder */
