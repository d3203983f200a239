package dev.switchboard.demo;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test class or method that drives {@link Chromium}. Without Chromium its tests are skipped
 * with a message saying how to install it, except in CI ({@code CI=true}), where that is a failure. The
 * tag lets a run leave them out: {@code mvn verify -DexcludedGroups=browser}.
 *
 * <pre>{@code
 * @BrowserTest
 * class GraphPageTest { ... }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("browser")
@ExtendWith(BrowserTest.ChromiumInstalled.class)
public @interface BrowserTest {

    /** Enables the tests when Chromium and its driver are installed. */
    final class ChromiumInstalled implements ExecutionCondition {
        static final String HOW_TO_INSTALL =
                "install chromium and chromium-driver (apt-get install chromium chromium-driver) to run the browser tests";

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (Chromium.installed()) {
                return ConditionEvaluationResult.enabled("Chromium is installed");
            }
            if ("true".equals(System.getenv("CI"))) {
                fail("no " + Chromium.BINARY + " or " + Chromium.DRIVER + ": " + HOW_TO_INSTALL);
            }
            return ConditionEvaluationResult.disabled(HOW_TO_INSTALL);
        }
    }
}
