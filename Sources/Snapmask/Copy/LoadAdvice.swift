/// What a DBA can do when the shadow copy refuses a masked row, worded once for every engine.
public enum LoadAdvice {
    /// A CHECK constraint (on the column or its domain) refused a masked value. The source's
    /// values pass it, so it is the rule that has to change.
    public static let checkConstraint = "The masked value breaks a CHECK constraint that the source's values pass: "
        + checkConstraintFix

    /// What to change when masked values break a CHECK constraint.
    public static let checkConstraintFix = "give the column a transformer whose outputs pass it (email's domain: "
        + "option, constant, keep), or change the constraint in production."
}
