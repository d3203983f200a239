package dev.switchboard.adapter;

/**
 * Makes the adapter of each namespace.
 *
 * <pre>{@code
 * SwitchboardOptions.builder().adapter(InMemoryAdapter::new).build();
 * }</pre>
 */
@FunctionalInterface
public interface AdapterFactory {
    Adapter create(LocalNamespace namespace);
}
